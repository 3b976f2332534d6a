// Package web is Sluice's HTTP layer: the published JSON API, the admin API,
// the gate and reverse proxy wiring, health and metrics endpoints and the
// waiting page. Domain logic lives in room/ and booking/; this package maps
// it to HTTP and maps errors to statuses in one place.
package web

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Code     string `json:"code"`
	Detail   string `json:"detail,omitempty"`
	DetailKO string `json:"detail_ko,omitempty"`
	// Extra members (e.g. opens_at, retry_after_seconds).
	Extra map[string]any `json:"-"`
}

func (p Problem) MarshalJSON() ([]byte, error) {
	m := map[string]any{
		"type": p.Type, "title": p.Title, "status": p.Status, "code": p.Code,
	}
	if p.Detail != "" {
		m["detail"] = p.Detail
	}
	if p.DetailKO != "" {
		m["detail_ko"] = p.DetailKO
	}
	for k, v := range p.Extra {
		m[k] = v
	}
	return json.Marshal(m)
}

// WriteProblem writes a problem+json response.
func WriteProblem(w http.ResponseWriter, p Problem) {
	if p.Type == "" {
		p.Type = "https://sluice.dev/problems/" + p.Code
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	b, err := json.Marshal(p)
	if err != nil {
		b = []byte(`{"type":"about:blank","status":500,"title":"Internal Server Error"}`)
		p.Status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(p.Status)
	w.Write(b)
}

func problem(w http.ResponseWriter, status int, code, detail, detailKO string) {
	WriteProblem(w, Problem{Status: status, Code: code, Detail: detail, DetailKO: detailKO})
}
