package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// flowWorker takes one person after another through their journey on one
// connection, request by request through the published API (RunFlow, in
// flow.go, runs many workers).
type flowWorker struct {
	run   *flowRun
	plan  *flowPlan
	t     *flowTarget
	conn  *Conn
	rng   *rand.Rand
	wire  []byte
	body  []byte
	stats FlowStats
	// started is when the current journey began (for the retry budget).
	started time.Time
}

func newFlowWorker(run *flowRun, t *flowTarget, n uint64) *flowWorker {
	return &flowWorker{run: run, plan: run.plan, t: t, conn: NewConn(t.addr),
		rng: rand.New(rand.NewPCG(run.plan.cfg.Seed, n)), body: make([]byte, 0, 16<<10)}
}

func (w *flowWorker) loop(ctx context.Context) {
	defer w.conn.Close()
	for ctx.Err() == nil {
		i := w.run.next.Add(1) - 1
		err := w.journey(ctx, i)
		switch {
		case errors.Is(err, ErrNoVerificationCode):
			w.run.stop(err)
			return
		case errors.Is(err, errRunOver):
			// The rest of the run is shorter than what this person had to
			// wait: so would the next person's be. Starting people only
			// to drop them would flood the line with joins.
			return
		case err == nil, ctx.Err() != nil:
		default:
			w.run.failed.Add(1)
			if w.run.measuring.Load() {
				w.stats.Failed++
				w.stats.addFailure(codeOf(err), 1)
			}
		}
	}
}

// answerError is an answer that was not what the step wanted.
type answerError struct {
	step   Step
	status int
	code   string
}

func (e *answerError) Error() string {
	return fmt.Sprintf("%s: %d %s", e.step, e.status, e.code)
}

// overBudget ends a journey still failing when its retry budget is spent
// (FlowConfig.RetryBudget); err is the last failure.
type overBudget struct{ err error }

func (e *overBudget) Error() string { return "retry budget spent; last: " + e.err.Error() }
func (e *overBudget) Unwrap() error { return e.err }

// codeOf is the error code of err ("" for nil).
func codeOf(err error) string {
	var ae *answerError
	var ob *overBudget
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ob):
		return "over_budget"
	case errors.As(err, &ae):
		return ae.code
	case errors.Is(err, errRunOver):
		return "run_over"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return "net"
}

// lostAnswer reports whether a request may have been done without its
// answer reaching the client: the answer never came, or the server failed
// on its way out. Retrying such a booking needs its Idempotency-Key.
func lostAnswer(err error) bool {
	switch c := codeOf(err); c {
	case "net", "timeout", "unavailable", "internal":
		return true
	default:
		return strings.HasPrefix(c, "http_5")
	}
}

// unanswered reports whether a form may have been done although no
// answer said so: its answer was lost, also when the retry budget or the
// run ran out while sending it again.
func unanswered(err error) bool {
	return lostAnswer(err) || errors.Is(err, errRunOver) || (errors.As(err, new(*overBudget)) && lostAnswer(errors.Unwrap(err)))
}

// busy reports whether the server asked to come back later: by its code,
// or by any 503 (such as the gate's pass_internal, a pass that could not
// be checked while the line's store was unreachable).
func busy(err error) bool {
	switch codeOf(err) {
	case "rate_limited", "unavailable", "overloaded":
		return true
	}
	var ae *answerError
	return errors.As(err, &ae) && ae.status == 503
}

func (w *flowWorker) get(path string) Request {
	return Request{Method: "GET", Host: w.t.host, Path: w.t.prefix + path}
}

func (w *flowWorker) post(path string, body any, header ...string) Request {
	r := Request{Method: "POST", Host: w.t.host, Path: w.t.prefix + path, Header: header}
	if body != nil {
		r.Body, _ = json.Marshal(body)
		r.Header = append(r.Header, "Content-Type: application/json")
	}
	return r
}

// do sends one request of step (-1: not a step of the journey) and wants
// the status want; the answer's JSON is decoded into out if not nil.
// Latency and error answers are recorded when measuring. A request that
// failed on a kept-alive connection without any answer is sent once more
// on a new one if it is safe to repeat (not a booking, change or cancel,
// and not the confirmation of a code).
func (w *flowWorker) do(ctx context.Context, step Step, req Request, want int, out any) error {
	w.wire = req.AppendWire(w.wire[:0])
	safe := step != StepBook && step != StepChange && step != StepCancel && step != StepConfirm
	for attempt := 0; ; attempt++ {
		reused := w.conn.Reused()
		now := time.Now()
		if !now.Before(w.run.end) {
			return errRunOver
		}
		deadline := now.Add(w.plan.cfg.RequestTimeout)
		if deadline.After(w.run.end) {
			deadline = w.run.end
		}
		status, body, err := w.conn.Exchange(ctx, w.wire, deadline, w.body)
		t1 := time.Now()
		w.body = body[:0]
		if err != nil && (ctx.Err() != nil || !t1.Before(w.run.end)) {
			return errRunOver
		}
		if err != nil && reused && safe && attempt == 0 {
			continue
		}
		measuring := w.run.measuring.Load()
		if measuring && step >= 0 {
			w.stats.Steps[step].Record(t1.Sub(now))
		}
		if err == nil && status != want {
			err = &answerError{step: step, status: status, code: problemCode(status, body)}
		}
		if err == nil && out != nil && json.Unmarshal(body, out) != nil {
			err = &answerError{step: step, status: status, code: "bad_answer"}
		}
		if err != nil {
			w.run.errs.Add(1)
			if measuring {
				w.stats.addError(codeOf(err), 1)
			}
		}
		return err
	}
}

// problemCode is the code of a problem+json answer, or "http_NNN".
func problemCode(status int, body []byte) string {
	var p struct {
		Code string `json:"code"`
	}
	if json.Unmarshal(body, &p) == nil && p.Code != "" && len(p.Code) <= 64 {
		return p.Code
	}
	return "http_" + strconv.Itoa(status)
}

// patient repeats a safe step while the server says it is busy (a few
// times, backing off), as a person would; with a retry budget, also while
// its answer is lost, for as long as the budget lasts.
func (w *flowWorker) patient(ctx context.Context, step Step, req func() Request, want int, out any) error {
	for attempt := 0; ; attempt++ {
		err := w.do(ctx, step, req(), want, out)
		if w.plan.cfg.RetryBudget > 0 {
			if err == nil || !(busy(err) || lostAnswer(err)) {
				return err
			}
			if err := w.backoff(ctx, attempt, err); err != nil {
				return err
			}
			continue
		}
		if !busy(err) || attempt == 3 {
			return err
		}
		if !w.sleep(ctx, time.Duration(250<<attempt)*time.Millisecond) {
			return errRunOver
		}
	}
}

// backoff waits before the attempt+1-th retry of a step that failed with
// last, within the journey's retry budget: nil to retry, errRunOver, or
// an *overBudget error when the wait would overrun the budget.
func (w *flowWorker) backoff(ctx context.Context, attempt int, last error) error {
	d := min(time.Duration(250<<min(attempt, 4))*time.Millisecond, 2*time.Second)
	if time.Since(w.started)+d > w.plan.cfg.RetryBudget {
		return &overBudget{last}
	}
	if !w.sleep(ctx, d) {
		return errRunOver
	}
	return nil
}

// sleep waits d, or returns false if the run ends first.
func (w *flowWorker) sleep(ctx context.Context, d time.Duration) bool {
	if time.Now().Add(d).After(w.run.end) {
		return false
	}
	return Sleep(ctx, d)
}

// Sleep waits d, or returns false if ctx ends first.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

type ticketAnswer struct {
	Ticket      string `json:"ticket"`
	State       string `json:"state"`
	PollAfterMS int64  `json:"poll_after_ms"`
	Pass        string `json:"pass"`
}

type bookingAnswer struct {
	Number    string `json:"booking_number"`
	Status    string `json:"status"`
	VaccineID string `json:"vaccine_id"`
}

// slot is a first-dose slot a search showed free.
type slot struct {
	Clinic  int64  `json:"clinic_id"`
	Date    string `json:"date"`
	Block   int    `json:"block"`
	Vaccine string `json:"vaccine_id,omitempty"`
}

// journey takes person i from the eligibility check to a confirmed,
// looked-up booking, then perhaps a change or a cancellation, and returns
// the pass.
func (w *flowWorker) journey(ctx context.Context, i uint64) error {
	started := time.Now()
	w.started = started
	p := w.plan.people.Person(i)
	var el struct {
		Eligible bool   `json:"eligible"`
		Reason   string `json:"reason"`
	}
	if err := w.patient(ctx, StepEligibility, func() Request {
		return w.get("/api/v1/eligibility?birth_date=" + p.BirthDate.String())
	}, 200, &el); err != nil {
		return err
	}
	if !el.Eligible {
		err := &answerError{step: StepEligibility, status: 200, code: "not_eligible"}
		w.countError(err)
		return err
	}
	pass, err := w.admission(ctx)
	if err != nil {
		return err
	}
	passHeader := "Sluice-Pass: " + pass
	var challenge struct {
		ChallengeID string `json:"challenge_id"`
		DemoCode    string `json:"demo_code"`
	}
	if err := w.patient(ctx, StepVerify, func() Request {
		return w.post("/api/v1/identity/verifications", map[string]string{"name": p.Name, "rrn": p.RRN, "phone": p.Phone}, passHeader)
	}, 201, &challenge); err != nil {
		return err
	}
	code := challenge.DemoCode
	if code == "" && len(w.plan.cfg.TestIdentitySecret) > 0 {
		code = booking.TestIdentityCode(w.plan.cfg.TestIdentitySecret, challenge.ChallengeID)
	}
	if code == "" {
		return ErrNoVerificationCode
	}
	var confirmed struct {
		Session struct {
			ID string `json:"id"`
		} `json:"session"`
	}
	// Sent again if its answer is lost: the same code for the same
	// challenge gets the session the first one opened.
	if err := w.sendForm(ctx, StepConfirm, w.post("/api/v1/identity/verifications/"+url.PathEscape(challenge.ChallengeID)+"/confirm",
		map[string]string{"code": code}, passHeader), 200, &confirmed); err != nil {
		return err
	}
	sessionHeader := "Sluice-Session: " + confirmed.Session.ID

	bk, err := w.bookSomewhere(ctx, i, p, passHeader, sessionHeader)
	if err != nil {
		return err
	}
	var found bookingAnswer
	who := map[string]string{"name": p.Name, "rrn": p.RRN, "booking_number": bk.Number}
	if err := w.patient(ctx, StepLookup, func() Request {
		return w.post("/api/v1/bookings/lookup", who, passHeader)
	}, 200, &found); err != nil {
		return err
	}
	if found.Number != bk.Number || found.Status != "booked" {
		err := &answerError{step: StepLookup, status: 200, code: "lookup_mismatch"}
		w.countError(err)
		return err
	}
	if w.plan.cfg.Booked != nil {
		w.plan.cfg.Booked(p, bk.Number)
	}
	w.run.flows.Add(1)
	if w.run.measuring.Load() {
		w.stats.Flows++
		w.stats.Journey.Record(time.Since(started))
	}

	// Afterwards: some change their appointment, some cancel. Their errors
	// are counted; the booking was confirmed all the same.
	switch u := w.rng.Float64(); {
	case u < w.plan.cfg.ChangeShare:
		w.change(ctx, i, p, bk, passHeader)
	case u < w.plan.cfg.ChangeShare+w.plan.cfg.CancelShare:
		err := w.sendForm(ctx, StepCancel, w.post("/api/v1/bookings/cancel", who, passHeader, w.formKey(i, "cancel", 0)), 200, nil)
		if err == nil || unanswered(err) {
			w.acked(Acked{Kind: "cancel", Name: p.Name, RRN: p.RRN, Number: bk.Number, Unacknowledged: err != nil})
		}
	}
	w.do(ctx, StepLeave, w.post("/api/v1/rooms/"+url.PathEscape(w.plan.room)+"/leave", nil, "Authorization: Bearer "+pass), 204, nil)
	return nil
}

func (w *flowWorker) acked(a Acked) {
	if w.plan.cfg.Acked != nil {
		w.plan.cfg.Acked(a)
	}
}

func (w *flowWorker) countError(err error) {
	w.run.errs.Add(1)
	if w.run.measuring.Load() {
		w.stats.addError(codeOf(err), 1)
	}
}

// admission joins the booking room and polls as told until admitted, and
// returns the pass.
func (w *flowWorker) admission(ctx context.Context) (string, error) {
	room := url.PathEscape(w.plan.room)
	var t ticketAnswer
	if err := w.patient(ctx, StepJoin, func() Request {
		return w.post("/api/v1/rooms/"+room+"/tickets", nil)
	}, 201, &t); err != nil {
		return "", err
	}
	for t.State != "admitted" {
		switch t.State {
		case "waiting", "prequeue", "paused":
		default:
			err := &answerError{step: StepStatus, status: 200, code: "room_" + t.State}
			w.countError(err)
			return "", err
		}
		if !w.sleep(ctx, time.Duration(max(t.PollAfterMS, 1))*time.Millisecond) {
			return "", errRunOver
		}
		ticket := t.Ticket
		// As the waiting page's script does (docs/API.md, "Long poll"): a
		// ticket within reach of the front is answered when its turn comes.
		// The hold stays within half the request timeout, so that a held
		// answer is never taken for a lost one.
		wait := strconv.FormatFloat(min(10, w.plan.cfg.RequestTimeout.Seconds()/2), 'f', -1, 64)
		if err := w.patient(ctx, StepStatus, func() Request {
			return Request{Method: "GET", Host: w.t.host, Path: w.t.prefix + "/api/v1/rooms/" + room + "/status?wait=" + wait,
				Header: []string{"Authorization: Bearer " + ticket}}
		}, 200, &t); err != nil {
			return "", err
		}
	}
	if t.Pass == "" {
		err := &answerError{step: StepStatus, status: 200, code: "bad_answer"}
		w.countError(err)
		return "", err
	}
	return t.Pass, nil
}

// search asks for free clinics in a district on a date and returns the
// free first-dose slots it shows.
func (w *flowWorker) search(ctx context.Context, vaccine string, passHeader string) ([]slot, error) {
	district := w.plan.districts[w.rng.IntN(len(w.plan.districts))]
	date := w.plan.dates[w.rng.IntN(len(w.plan.dates))].String()
	path := "/api/v1/clinics?district=" + district + "&date=" + date + "&limit=10"
	if vaccine != "" {
		path += "&vaccine=" + url.QueryEscape(vaccine)
	}
	var res struct {
		Clinics []struct {
			Clinic struct {
				ID int64 `json:"id"`
			} `json:"clinic"`
			Free []int `json:"free_by_block"`
		} `json:"clinics"`
	}
	if err := w.patient(ctx, StepSearch, func() Request {
		r := w.get(path)
		r.Header = []string{passHeader}
		return r
	}, 200, &res); err != nil {
		return nil, err
	}
	var out []slot
	for _, c := range res.Clinics {
		for b, n := range c.Free {
			if n > 0 {
				out = append(out, slot{Clinic: c.Clinic.ID, Date: date, Block: b, Vaccine: vaccine})
			}
		}
	}
	return out, nil
}

// takeSlot removes and returns a random slot of s.
func (w *flowWorker) takeSlot(s *[]slot) slot {
	k := w.rng.IntN(len(*s))
	x := (*s)[k]
	(*s)[k] = (*s)[len(*s)-1]
	*s = (*s)[:len(*s)-1]
	return x
}

// full reports whether a booking or change was refused for want of room,
// or (searching without a vaccine) for the clinic's vaccines: try another
// slot.
func full(err error) bool {
	switch codeOf(err) {
	case "slot_full", "no_second_dose", "vaccine_not_offered":
		return true
	}
	return false
}

const maxSearches = 5

// bookSomewhere searches and books until a booking is confirmed: on a full
// slot it tries another the search showed, then searches again. Each
// booking form sent is one Idempotency-Key; a lost answer is asked again
// with the same key, so a retry can never book twice.
func (w *flowWorker) bookSomewhere(ctx context.Context, i uint64, p Person, passHeader, sessionHeader string) (bookingAnswer, error) {
	form := 0
	for range maxSearches {
		vaccine := ""
		if len(w.plan.vaccines) > 0 {
			vaccine = w.plan.vaccines[w.rng.IntN(len(w.plan.vaccines))]
		}
		cands, err := w.search(ctx, vaccine, passHeader)
		if err != nil {
			return bookingAnswer{}, err
		}
		for len(cands) > 0 {
			s := w.takeSlot(&cands)
			var bk bookingAnswer
			err := w.sendForm(ctx, StepBook, w.post("/api/v1/bookings", s, passHeader, sessionHeader, w.formKey(i, "book", form)), 201, &bk)
			form++
			switch {
			case err == nil && bk.Status == "booked" && bk.Number != "":
				w.acked(Acked{Kind: "book", Name: p.Name, RRN: p.RRN, Number: bk.Number, Clinic: s.Clinic, Date: s.Date, Block: s.Block})
				return bk, nil
			case err == nil:
				err = &answerError{step: StepBook, status: 201, code: "bad_answer"}
				w.countError(err)
				return bookingAnswer{}, err
			case !full(err):
				return bookingAnswer{}, err
			}
		}
	}
	err := &answerError{step: StepSearch, status: 200, code: "no_free_slot"}
	w.countError(err)
	return bookingAnswer{}, err
}

// change moves the booking to another slot of the same vaccine.
func (w *flowWorker) change(ctx context.Context, i uint64, p Person, bk bookingAnswer, passHeader string) {
	cands, err := w.search(ctx, bk.VaccineID, passHeader)
	for tries := 0; err == nil && len(cands) > 0 && tries < 3; tries++ {
		s := w.takeSlot(&cands)
		err = w.sendForm(ctx, StepChange, w.post("/api/v1/bookings/change", map[string]any{
			"name": p.Name, "rrn": p.RRN, "booking_number": bk.Number,
			"clinic_id": s.Clinic, "date": s.Date, "block": s.Block,
		}, passHeader, w.formKey(i, "change", tries)), 200, nil)
		if err == nil || unanswered(err) {
			w.acked(Acked{Kind: "change", Name: p.Name, RRN: p.RRN, Number: bk.Number, Clinic: s.Clinic, Date: s.Date, Block: s.Block,
				Unacknowledged: err != nil})
		}
		if !full(err) {
			return
		}
	}
}

// formKey is the Idempotency-Key header of person i's n-th form of a kind
// (book, change, cancel): one key per form sent, as the pages make one
// per form rendered.
func (w *flowWorker) formKey(i uint64, kind string, n int) string {
	return fmt.Sprintf("Idempotency-Key: flow-%x-%d-%s-%d", w.plan.cfg.Seed, i, kind, n)
}

// sendForm sends a booking, change or cancel (req carries its
// Idempotency-Key) and, while its answer is lost, sends it again with the
// same key a few times, backing off: the server then answers from what
// the first one did, and never books, changes or cancels twice.
func (w *flowWorker) sendForm(ctx context.Context, step Step, req Request, want int, out any) error {
	err := w.do(ctx, step, req, want, out)
	for retry := 0; ; retry++ {
		if w.plan.cfg.RetryBudget > 0 {
			// Told to come back later, or the answer lost: the same form
			// again, for as long as the budget lasts.
			if err == nil || !(busy(err) || lostAnswer(err)) {
				return err
			}
			if err := w.backoff(ctx, retry, err); err != nil {
				return err
			}
		} else {
			if !lostAnswer(err) || retry == 3 {
				return err
			}
			if !w.sleep(ctx, time.Duration(100<<retry)*time.Millisecond) {
				return errRunOver
			}
		}
		err = w.do(ctx, step, req, want, out)
	}
}
