package booking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/internal/outage"
)

// Sender delivers a message (an SMS gateway, a push service, the console).
// Send may be called again with the same message after an error or a crash
// (delivery is at least once); Message.ID identifies it for deduplication.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Outbox worker settings.
const (
	// OutboxBatch is the number of pending messages one delivery pass reads.
	OutboxBatch = 100
	// OutboxBaseBackoff is the wait after a message's first failed
	// delivery; it doubles with each failure up to OutboxMaxBackoff.
	OutboxBaseBackoff = time.Second
	OutboxMaxBackoff  = 5 * time.Minute
	// outboxSendTimeout bounds one Send.
	outboxSendTimeout = 10 * time.Second
	// outboxMaxTracked bounds the worker's memory of failures.
	outboxMaxTracked = 10_000
)

type outboxState struct {
	mu       sync.Mutex // one delivery pass at a time
	retry    map[int64]*outboxRetry
	unmarked map[int64]time.Time // sent, but MarkSent failed: mark, don't resend

	// lockDown and deliveryDown log failures to take the outbox lock and to
	// deliver as outages: a line when they start, one every
	// outage.DefaultEvery, one when they end; not one per tick.
	lockDown, deliveryDown *outage.Log
}

type outboxRetry struct {
	attempts int
	next     time.Time
}

func (o *outboxState) init(log *slog.Logger, clk clock.Clock) {
	o.retry = map[int64]*outboxRetry{}
	o.unmarked = map[int64]time.Time{}
	o.lockDown = &outage.Log{Logger: log, What: "taking the outbox lock", Now: clk.Now}
	o.deliveryDown = &outage.Log{Logger: log, What: "outbox delivery", Now: clk.Now}
}

// DeliverPending makes one delivery pass over the store's outbox: it reads
// up to OutboxBatch pending messages (oldest first), sends each with the
// Sender as it was written, in the transaction of the change it reports,
// and marks it sent. A message whose delivery fails is retried on a later
// pass, after a backoff doubling from OutboxBaseBackoff to
// OutboxMaxBackoff (by the service clock); messages waiting for their retry
// are skipped. It returns the number of messages delivered and the failures
// of this pass joined (nil if none).
//
// Only messages the store committed with their booking change are ever
// sent. Delivery is at least once: a crash between Send and MarkSent sends
// the message again. Run one outbox worker per store: two workers on
// different nodes would both send each message.
func (s *Service) DeliverPending(ctx context.Context) (int, error) {
	o := &s.outbox
	o.mu.Lock()
	defer o.mu.Unlock()
	msgs, err := s.store.PendingMessages(ctx, OutboxBatch)
	if err != nil {
		return 0, fmt.Errorf("outbox: %w", err)
	}
	if len(o.retry) > outboxMaxTracked {
		clear(o.retry)
	}
	if len(o.unmarked) > outboxMaxTracked {
		clear(o.unmarked)
	}
	var errs []error
	delivered := 0
	for _, m := range msgs {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		now := s.clock.Now()
		if at, ok := o.unmarked[m.ID]; ok {
			if err := s.store.MarkSent(ctx, m.ID, at); err != nil {
				errs = append(errs, fmt.Errorf("outbox: mark message %d sent: %w", m.ID, err))
				continue
			}
			delete(o.unmarked, m.ID)
			delivered++
			continue
		}
		if r := o.retry[m.ID]; r != nil && now.Before(r.next) {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, outboxSendTimeout)
		err := s.sender.Send(sctx, withoutPlaceholder(m))
		cancel()
		if err != nil {
			r := o.retry[m.ID]
			if r == nil {
				r = &outboxRetry{}
				o.retry[m.ID] = r
			}
			r.attempts++
			r.next = now.Add(outboxBackoff(r.attempts))
			errs = append(errs, fmt.Errorf("outbox: message %d (%s, attempt %d, next try %s): %w",
				m.ID, m.Kind, r.attempts, r.next.Format(time.RFC3339), err))
			continue
		}
		delete(o.retry, m.ID)
		sentAt := s.clock.Now()
		if err := s.store.MarkSent(ctx, m.ID, sentAt); err != nil {
			o.unmarked[m.ID] = sentAt
			errs = append(errs, fmt.Errorf("outbox: mark message %d sent: %w", m.ID, err))
			continue
		}
		delivered++
	}
	return delivered, errors.Join(errs...)
}

// outboxBackoff is the wait after the n-th failure (n >= 1).
func outboxBackoff(n int) time.Duration {
	d := OutboxBaseBackoff
	for i := 1; i < n && d < OutboxMaxBackoff; i++ {
		d *= 2
	}
	return min(d, OutboxMaxBackoff)
}

// OutboxLocker is implemented by stores that several nodes share (the
// PostgreSQL store): only the node holding the lock delivers the outbox, so
// that no message goes out once per node.
type OutboxLocker interface {
	// TryLockOutbox takes the outbox for this node if no other node has
	// it. ok is false when another node has it.
	TryLockOutbox(ctx context.Context) (lease OutboxLease, ok bool, err error)
}

// OutboxLease is a held outbox lock.
type OutboxLease interface {
	// Held reports whether the lock is still this node's (false once the
	// connection that holds it is gone).
	Held(ctx context.Context) bool
	Release()
}

// RunOutbox delivers pending messages every interval (default 1s) until ctx
// is done, then returns ctx.Err(). When a pass fills a whole batch it runs
// the next at once. Failures are logged and retried (see DeliverPending).
// With a store that several nodes share (OutboxLocker), it delivers only
// while this node holds the outbox lock and otherwise waits for it.
func (s *Service) RunOutbox(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	return s.runOutbox(ctx, t.C)
}

// runOutbox is RunOutbox on the given ticks: each step (a lock attempt, a
// delivery pass) waits for the next tick, so a test can drive it tick by
// tick.
func (s *Service) runOutbox(ctx context.Context, ticks <-chan time.Time) error {
	locker, shared := s.store.(OutboxLocker)
	if !shared {
		return s.deliverLoop(ctx, ticks, nil)
	}
	for {
		lease, ok, err := locker.TryLockOutbox(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.outbox.lockDown.Failed(err)
		case err == nil:
			s.outbox.lockDown.Succeeded()
		}
		if ok {
			s.log.Info("this node now delivers the outbox")
			err := s.deliverLoop(ctx, ticks, lease)
			lease.Release()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Warn("outbox lock lost; another node may take over", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticks:
		}
	}
}

// errLeaseLost ends a delivery loop whose outbox lock is gone.
var errLeaseLost = errors.New("outbox lock lost")

func (s *Service) deliverLoop(ctx context.Context, ticks <-chan time.Time, lease OutboxLease) error {
	for {
		if lease != nil && !lease.Held(ctx) {
			return errLeaseLost
		}
		n, err := s.DeliverPending(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			s.outbox.deliveryDown.Failed(err, "delivered", n)
		} else {
			s.outbox.deliveryDown.Succeeded()
		}
		if n >= OutboxBatch {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticks:
		}
	}
}

// withoutPlaceholder answers for a message whose text still holds
// Dose2Placeholder (written by a version that filled it in at delivery):
// it points to the look-up rather than guess which second dose was meant.
func withoutPlaceholder(m Message) Message {
	if strings.Contains(m.Body, Dose2Placeholder) {
		m.Body = strings.ReplaceAll(m.Body, Dose2Placeholder, "예약 조회에서 확인해 주세요")
	}
	return m
}

// --- console sender ------------------------------------------------------------

// RecentMessages is the number of messages a ConsoleSender remembers.
const RecentMessages = 100

// ConsoleSender is the Sender for demos and development: it logs each
// message (phone masked like 010-****-5678; the text of verification
// messages withheld, since it is a login code) and remembers the last
// RecentMessages for the operator dashboard, the same way. It is safe for
// concurrent use.
type ConsoleSender struct {
	log *slog.Logger

	mu   sync.Mutex
	ring [RecentMessages]Message
	next int // index of the next write
	n    int // number of messages held
}

// NewConsoleSender returns a ConsoleSender logging to log (slog.Default()
// if nil).
func NewConsoleSender(log *slog.Logger) *ConsoleSender {
	if log == nil {
		log = slog.Default()
	}
	return &ConsoleSender{log: log}
}

// Send logs the message and remembers it.
func (c *ConsoleSender) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if m.Kind == "verification" {
		// A verification code is a password for a moment: it goes to the
		// phone and nowhere else, neither into the log nor into what the
		// operator's views (admin API, dashboard) read from Recent.
		m.Body = "(verification code withheld)"
	}
	c.log.Info("message sent", "kind", m.Kind, "to", MaskPhone(m.To),
		"booking_number", m.BookingNumber, "id", m.ID, "body", m.Body)
	m.To = MaskPhone(m.To)
	c.mu.Lock()
	c.ring[c.next] = m
	c.next = (c.next + 1) % len(c.ring)
	c.n = min(c.n+1, len(c.ring))
	c.mu.Unlock()
	return nil
}

// Recent returns the messages sent most recently, newest first, at most
// RecentMessages, with the phone masked and no verification code.
func (c *ConsoleSender) Recent() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Message, 0, c.n)
	for i := 1; i <= c.n; i++ {
		out = append(out, c.ring[(c.next-i+len(c.ring))%len(c.ring)])
	}
	return out
}

// MaskPhone masks the middle of a phone number: "01012345678" ->
// "010-****-5678", "0111234567" -> "011-***-4567". Anything else keeps at
// most its last four digits.
func MaskPhone(p string) string {
	switch {
	case len(p) == 11 && strings.HasPrefix(p, "01"):
		return p[:3] + "-****-" + p[7:]
	case len(p) == 10 && strings.HasPrefix(p, "01"):
		return p[:3] + "-***-" + p[6:]
	case len(p) > 4:
		return strings.Repeat("*", len(p)-4) + p[len(p)-4:]
	}
	return "****"
}
