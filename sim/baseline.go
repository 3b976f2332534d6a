package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// BaselineBody is what the baseline handler answers: a constant JSON
// document of about the size of a waiting-room status reply.
var BaselineBody = []byte(`{"ticket":"AVQEYmVuY2gFYmVuY2gBLPDKs7oNAAAAAAAAAAAAAAAAAAAAAA","state":"waiting","position":42,"ahead":41,"eta_seconds":21,"poll_after_ms":1000}`)

// BaselineHandler is the bare net/http handler the waiting room is measured
// against: it writes BaselineBody as application/json for any request.
func BaselineHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(BaselineBody)
	})
}

// Scenario names.
const (
	ScenarioBaseline = "baseline"
	ScenarioJoin     = "join"
	ScenarioStatus   = "status"
)

// JoinRequest is POST /api/v1/rooms/{room}/tickets without a body.
func JoinRequest(host, room string) Request {
	return Request{Method: "POST", Host: host, Path: "/api/v1/rooms/" + url.PathEscape(room) + "/tickets"}
}

// StatusRequest is GET /api/v1/rooms/{room}/status with the ticket.
func StatusRequest(host, room, ticket string) Request {
	return Request{Method: "GET", Host: host, Path: "/api/v1/rooms/" + url.PathEscape(room) + "/status",
		Header: []string{"Authorization: Bearer " + ticket}}
}

// BaselineRequest is GET / (the baseline answers any path).
func BaselineRequest(host string) Request {
	return Request{Method: "GET", Host: host, Path: "/"}
}

// TicketReply is the part of a join or status reply the tools read.
type TicketReply struct {
	Ticket   string `json:"ticket"`
	State    string `json:"state"`
	Position uint64 `json:"position"`
	Ahead    uint64 `json:"ahead"`
}

// Join joins the room at baseURL n times (n >= 1) and returns the last
// reply: with n large enough, a ticket far back in line whose status is
// "waiting", for the status scenario.
func Join(ctx context.Context, baseURL, room string, n int) (TicketReply, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	u := strings.TrimRight(baseURL, "/") + "/api/v1/rooms/" + url.PathEscape(room) + "/tickets"
	var last TicketReply
	for i := 0; i < max(n, 1); i++ {
		req, err := http.NewRequestWithContext(ctx, "POST", u, nil)
		if err != nil {
			return last, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return last, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return last, err
		}
		if resp.StatusCode != http.StatusCreated {
			return last, fmt.Errorf("POST %s: %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
		}
		last = TicketReply{}
		if err := json.Unmarshal(body, &last); err != nil || last.Ticket == "" {
			return last, fmt.Errorf("POST %s: unexpected reply %q", u, body)
		}
	}
	return last, nil
}
