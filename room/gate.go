package room

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/internal/localurl"
)

// PassHeader and PassCookie are where the gate looks for a pass.
const (
	PassHeader = "Sluice-Pass"
	PassCookie = "sluice_pass"
)

// PassVerifier checks a pass. *Room implements it (signature, room, expiry
// and that the session is still active); StatelessVerifier checks only what
// the pass itself proves, for applications that run the gate without the
// room in the same process.
type PassVerifier interface {
	VerifyPass(tok string) (Pass, error)
}

// StatelessVerifier verifies passes with the keys alone.
type StatelessVerifier struct {
	Keys  *Keyring
	Room  string
	Clock clock.Clock
}

// VerifyPass checks signature, room and expiry.
func (v StatelessVerifier) VerifyPass(tok string) (Pass, error) {
	now := time.Now()
	if v.Clock != nil {
		now = v.Clock.Now()
	}
	return v.Keys.VerifyPass(tok, v.Room, now)
}

// Rejection reasons, as counted in metrics.
const (
	ReasonMissing    = "missing"
	ReasonMalformed  = "malformed"
	ReasonForged     = "forged"
	ReasonUnknownKey = "unknown_key"
	ReasonExpired    = "expired"
	ReasonWrongRoom  = "wrong_room"
	ReasonWrongKind  = "wrong_kind"
	ReasonRevoked    = "revoked"
	ReasonInternal   = "internal"
)

// reasons is every rejection reason with the verification error it stands
// for (none: no pass, or an error of another kind) and what the client is
// told.
var reasons = [...]struct {
	name   string
	err    error
	detail string
}{
	{ReasonMissing, nil, "No pass was sent (header Sluice-Pass or cookie sluice_pass)."},
	{ReasonMalformed, ErrMalformed, "The pass is not well formed."},
	{ReasonForged, ErrForged, "The pass signature does not verify."},
	{ReasonUnknownKey, ErrUnknownKey, "The pass was signed with a key this server does not know."},
	{ReasonExpired, ErrExpired, "The pass has expired."},
	{ReasonWrongRoom, ErrWrongRoom, "The pass belongs to another waiting room."},
	{ReasonWrongKind, ErrWrongKind, "That is a ticket, not a pass."},
	{ReasonRevoked, ErrRevoked, "The pass was returned or its session has ended."},
	{ReasonInternal, nil, "The pass could not be checked right now."},
}

// Reasons lists every rejection reason.
var Reasons = func() []string {
	out := make([]string, len(reasons))
	for i, r := range reasons {
		out[i] = r.name
	}
	return out
}()

// reasonIndex is the place of a reason in reasons (that of "internal" for
// an unknown one).
func reasonIndex(reason string) int {
	for i, r := range reasons {
		if r.name == reason {
			return i
		}
	}
	return len(reasons) - 1
}

// ReasonOf maps a verification error to its reason. Anything unknown is
// "internal" — and still a rejection.
func ReasonOf(err error) string {
	for _, r := range reasons {
		if r.err != nil && errors.Is(err, r.err) {
			return r.name
		}
	}
	return ReasonInternal
}

// Gate guards a backend: every request must carry a valid pass. It fails
// closed: a missing, malformed, forged, expired, other-room or revoked pass,
// and any internal error (even a panic in the verifier), are rejected.
type Gate struct {
	Verifier PassVerifier
	// WaitingURL is where browsers are sent (303) with ?return=<path>.
	WaitingURL string
	// OnAllow, if set, is called with each accepted pass (e.g. to count).
	OnAllow func(r *http.Request, p Pass)
	// Health, if set, returns where the requests let through are measured
	// as the protected backend's (nil: not measured); while the room's
	// pacing is auto it also bounds them in flight (Health.Wrap).
	Health func() *Health

	rejected [len(reasons)]atomic.Uint64 // indexed like reasons
}

// Rejections returns how many requests were rejected, by reason.
func (g *Gate) Rejections() map[string]uint64 {
	out := make(map[string]uint64, len(Reasons))
	for i, r := range Reasons {
		out[r] = g.rejected[i].Load()
	}
	return out
}

func (g *Gate) count(reason string) { g.rejected[reasonIndex(reason)].Add(1) }

// PassFrom extracts a pass from the request: header first, then cookie.
func PassFrom(r *http.Request) string {
	if p := r.Header.Get(PassHeader); p != "" {
		return strings.TrimSpace(p)
	}
	if c, err := r.Cookie(PassCookie); err == nil {
		return c.Value
	}
	return ""
}

// Check verifies the request's pass. ok is false with the rejection reason
// when the request must not go through.
func (g *Gate) Check(r *http.Request) (p Pass, reason string, ok bool) {
	defer func() {
		if recover() != nil {
			p, reason, ok = Pass{}, ReasonInternal, false
		}
	}()
	tok := PassFrom(r)
	if tok == "" {
		return Pass{}, ReasonMissing, false
	}
	if g.Verifier == nil {
		return Pass{}, ReasonInternal, false
	}
	p, err := g.Verifier.VerifyPass(tok)
	if err != nil {
		return Pass{}, ReasonOf(err), false
	}
	return p, "", true
}

// Wrap returns next guarded by the gate.
func (g *Gate) Wrap(next http.Handler) http.Handler {
	return g.Guard(func(w http.ResponseWriter, r *http.Request, _ Pass) { next.ServeHTTP(w, r) }, nil)
}

// Guard returns next guarded by the gate, handing it the verified pass (so
// a handler that needs it does not verify it again). reject answers
// rejected requests; nil means Reject. Every rejection is counted either
// way.
func (g *Gate) Guard(next func(http.ResponseWriter, *http.Request, Pass), reject func(w http.ResponseWriter, r *http.Request, reason string)) http.Handler {
	if reject == nil {
		reject = g.Reject
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, reason, ok := g.Check(r)
		if !ok {
			g.count(reason)
			reject(w, r, reason)
			return
		}
		if g.OnAllow != nil {
			g.OnAllow(r, p)
		}
		if g.Health != nil {
			if h := g.Health(); h != nil {
				h.serve(w, r, func(w http.ResponseWriter, r *http.Request) { next(w, r, p) })
				return
			}
		}
		next(w, r, p)
	})
}

// WantsHTML reports whether the client is a browser navigating (as opposed
// to an API client): it accepts text/html and did not ask for JSON first.
func WantsHTML(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return false
	}
	h := strings.Index(accept, "text/html")
	j := strings.Index(accept, "json")
	return h >= 0 && (j < 0 || h < j)
}

// Reject answers a request that has no valid pass: a 303 to the waiting
// page for browsers, 401 problem+json for API clients; a pass that could
// not be checked (reason internal: the line cannot be reached or is being
// restored) is no verdict on the pass, so API clients get 503 with
// Retry-After: the pass may work again in a moment.
func (g *Gate) Reject(w http.ResponseWriter, r *http.Request, reason string) {
	w.Header().Set("Cache-Control", "no-store")
	if WantsHTML(r) && (r.Method == http.MethodGet || r.Method == http.MethodHead) && g.WaitingURL != "" {
		target := g.WaitingURL
		// The page to come back to, if it is one of this site's as a
		// browser reads it (the waiting page checks it again).
		if r.URL != nil {
			if ret, ok := localurl.Path(r.URL.RequestURI()); ok {
				sep := "?"
				if strings.Contains(target, "?") {
					sep = "&"
				}
				target += sep + "return=" + url.QueryEscape(ret)
			}
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	status := http.StatusUnauthorized
	detail := reasons[reasonIndex(reason)].detail + " Join the waiting room to get one."
	w.Header().Set("Content-Type", "application/problem+json")
	if reason == ReasonInternal {
		status, detail = http.StatusServiceUnavailable, reasons[reasonIndex(reason)].detail+" Try again in a few seconds."
		w.Header().Set("Retry-After", "2")
	} else {
		w.Header().Set("WWW-Authenticate", `Sluice-Pass realm="sluice"`)
	}
	w.WriteHeader(status)
	body, _ := json.Marshal(rejection{
		Type: "https://sluice.dev/problems/pass_" + reason, Title: "A valid waiting-room pass is required",
		Status: status, Code: "pass_" + reason, Detail: detail, WaitingURL: g.WaitingURL,
	})
	w.Write(body)
}

// rejection is the problem document (RFC 9457) of a rejected API request.
type rejection struct {
	Type       string `json:"type"`
	Title      string `json:"title"`
	Status     int    `json:"status"`
	Code       string `json:"code"`
	Detail     string `json:"detail"`
	WaitingURL string `json:"waiting_url"`
}
