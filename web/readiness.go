package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/outage"
)

// DefaultRequestTimeout is a request's deadline when Server.RequestTimeout
// is not set: every database or Redis call the request makes ends by then,
// well within the HTTP server's write timeout (30 s), so that the request
// is answered (503 with Retry-After) rather than dropped.
const DefaultRequestTimeout = 10 * time.Second

// WithDeadline gives each request through h the server's deadline
// (RequestTimeout); what h asks of the database or Redis ends by then.
func (s *Server) WithDeadline(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := s.RequestTimeout
		if d <= 0 {
			d = DefaultRequestTimeout
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// ReadyCheck is a dependency /readyz checks: a load balancer takes a node
// whose dependency fails out of rotation.
type ReadyCheck struct {
	// Name names the component in /readyz's answer ("booking_database",
	// "shared_queue_state"); it says what fails and nothing else.
	Name string
	// Check answers within ctx whether the component serves.
	Check func(ctx context.Context) error
	// Public: Check's errors never name hosts, users, databases or
	// credentials (a room's lost line names only the room), so /readyz
	// shows them to say what an operator must look at.
	Public bool
}

// readyTimeout bounds one /readyz answer.
const readyTimeout = 2 * time.Second

// readiness answers /readyz: 200 when every check passes, else 503
// problem+json naming the failing components ("unavailable", or "timeout"
// for one that did not answer in time), with Retry-After. The answer never
// quotes an error: a database's errors name its host, user and database,
// which a public endpoint must not show. The causes go to the log, as
// outages (a line when a component starts failing, then every
// outage.DefaultEvery, and one when it works again).
type readiness struct {
	logs byName[*outage.Log]
}

func (rd *readiness) outage(log *slog.Logger, name string) *outage.Log {
	return rd.logs.get(name, func() *outage.Log {
		return &outage.Log{Logger: log, What: "readiness: " + name}
	})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	components, err := s.CheckReady(r.Context())
	if err != nil {
		var failing []string
		for name, state := range components {
			if state != "ok" {
				failing = append(failing, name+" "+state)
			}
		}
		for _, c := range s.Ready {
			var pe publicError
			if c.Public && errors.As(err, &pe) && pe.name == c.Name {
				failing = append(failing, pe.err.Error())
			}
		}
		sort.Strings(failing)
		WriteProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "not_ready",
			Detail:     "Not ready: " + strings.Join(failing, ", ") + ".",
			Extra:      map[string]any{"components": components},
			RetryAfter: RetryUnavailable})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "components": components})
}

// CheckReady runs the readiness checks (Ready) at once, within 2 s, and
// returns each component's state ("ok", "unavailable", or "timeout" for
// one that did not answer in time) and the errors of those that fail,
// joined. The errors are for the operator (the log, the dashboard): they
// may name hosts, users and databases, which /readyz does not show. A
// failing component is logged as an outage, once.
func (s *Server) CheckReady(ctx context.Context) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	errs := make([]error, len(s.Ready))
	var wg sync.WaitGroup
	for i, c := range s.Ready {
		wg.Go(func() { errs[i] = c.Check(ctx) })
	}
	wg.Wait()
	components := map[string]string{}
	var failed []error
	for i, c := range s.Ready {
		l := s.ready.outage(s.Log, c.Name)
		if errs[i] == nil {
			l.Succeeded()
			components[c.Name] = "ok"
			continue
		}
		l.Failed(errs[i])
		state := "unavailable"
		if errors.Is(errs[i], context.DeadlineExceeded) {
			state = "timeout"
		}
		components[c.Name] = state
		if c.Public {
			failed = append(failed, publicError{c.Name, errs[i]})
			continue
		}
		failed = append(failed, fmt.Errorf("%s: %w", c.Name, errs[i]))
	}
	return components, errors.Join(failed...)
}

// outageOnce is an outage.Log made on first use.
type outageOnce struct {
	once sync.Once
	log  *outage.Log
}

func (o *outageOnce) get(log *slog.Logger, what string) *outage.Log {
	o.once.Do(func() { o.log = &outage.Log{Logger: log, What: what} })
	return o.log
}

// publicError is the failure of a Public ReadyCheck, which /readyz may
// quote.
type publicError struct {
	name string
	err  error
}

func (e publicError) Error() string { return e.name + ": " + e.err.Error() }
func (e publicError) Unwrap() error { return e.err }
