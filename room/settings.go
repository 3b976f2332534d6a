package room

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Settings configure a room. Zero times mean "not set": a room with no
// OpensAt is open from the start, one with no ClosesAt never closes by itself.
type Settings struct {
	Name       string    `json:"name"`
	PrequeueAt time.Time `json:"prequeue_at"`
	OpensAt    time.Time `json:"opens_at"`
	ClosesAt   time.Time `json:"closes_at"`
	// Capacity is the most admitted sessions active at once.
	Capacity int `json:"capacity"`
	// Rate is the most admissions per second.
	Rate float64 `json:"rate"`
	// PassTTL is how long a pass (an admitted session) lives once claimed.
	PassTTL time.Duration `json:"pass_ttl"`
	// ClaimTimeout is how long an admitted place waits for its holder to
	// collect the pass before it is given to the next person.
	ClaimTimeout time.Duration `json:"claim_timeout"`
	// PollBudget is the most status requests per second the whole line should
	// send; poll_after_ms is chosen to stay under it however long the line.
	PollBudget float64 `json:"poll_budget"`
	// MinPoll is the shortest poll interval advised (people at the front).
	MinPoll time.Duration `json:"min_poll"`
	// WaitingURL is where the gate sends browsers without a valid pass.
	WaitingURL string `json:"waiting_url"`
	Paused     bool   `json:"paused"`
	Closed     bool   `json:"closed"`
	// Message is the operator's word to the people in line (why admission
	// is paused, what happens next), shown as written on the waiting page
	// and in status answers; ResumeAt, when set, is when the operator
	// expects to admit people again. Both are controls: with several nodes
	// every node shows them.
	Message  string    `json:"message"`
	ResumeAt time.Time `json:"resume_at,omitzero"`
}

// MaxMessageLen is the longest operator's message, in characters.
const MaxMessageLen = 300

// Defaults for unset settings.
const (
	DefaultCapacity     = 100
	DefaultRate         = 10
	DefaultPassTTL      = 10 * time.Minute
	DefaultClaimTimeout = 2 * time.Minute
	DefaultPollBudget   = 5000
	DefaultMinPoll      = time.Second
)

var roomNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidRoomName reports whether s is a usable room name: lower-case letters,
// digits, '-' and '_', 1-64 characters, starting with a letter or digit.
func ValidRoomName(s string) bool { return roomNameRE.MatchString(s) }

// WithDefaults fills unset fields.
func (s Settings) WithDefaults() Settings {
	orDefault(&s.Capacity, DefaultCapacity)
	orDefault(&s.Rate, DefaultRate)
	orDefault(&s.PassTTL, DefaultPassTTL)
	orDefault(&s.ClaimTimeout, DefaultClaimTimeout)
	orDefault(&s.PollBudget, DefaultPollBudget)
	orDefault(&s.MinPoll, DefaultMinPoll)
	orDefault(&s.WaitingURL, "/wait/"+s.Name)
	if s.PrequeueAt.IsZero() { // IsZero, not ==: a zero time may carry a location
		s.PrequeueAt = s.OpensAt
	}
	s.Message = strings.TrimSpace(s.Message)
	// Controls compare with ==: one form for an instant (UTC, milliseconds,
	// as the shared state keeps it).
	if s.ResumeAt.IsZero() {
		s.ResumeAt = time.Time{}
	} else {
		s.ResumeAt = time.UnixMilli(s.ResumeAt.UnixMilli()).UTC()
	}
	return s
}

// orDefault sets an unset (zero) setting to d.
func orDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// Validate reports the first problem with the settings, naming the field.
func (s Settings) Validate() error {
	switch {
	case !ValidRoomName(s.Name):
		return fmt.Errorf("room name %q: use 1-64 lower-case letters, digits, '-' or '_'", s.Name)
	case s.Capacity < 1 || s.Capacity > 10_000_000:
		return fmt.Errorf("room %q: capacity must be between 1 and 10000000, got %d", s.Name, s.Capacity)
	case !(s.Rate > 0) || s.Rate > 1_000_000:
		return fmt.Errorf("room %q: rate must be between 0 and 1000000 admissions per second, got %v", s.Name, s.Rate)
	case s.PassTTL < 10*time.Second || s.PassTTL > 24*time.Hour:
		return fmt.Errorf("room %q: pass_ttl must be between 10s and 24h, got %v", s.Name, s.PassTTL)
	case s.ClaimTimeout < 5*time.Second || s.ClaimTimeout > time.Hour:
		return fmt.Errorf("room %q: claim_timeout must be between 5s and 1h, got %v", s.Name, s.ClaimTimeout)
	case !(s.PollBudget >= 1):
		return fmt.Errorf("room %q: poll_budget must be at least 1 request per second", s.Name)
	case s.MinPoll < 100*time.Millisecond || s.MinPoll > time.Minute:
		return fmt.Errorf("room %q: min_poll must be between 100ms and 1m", s.Name)
	case !s.OpensAt.IsZero() && s.PrequeueAt.After(s.OpensAt):
		return fmt.Errorf("room %q: prequeue_at must not be after opens_at", s.Name)
	case !s.ClosesAt.IsZero() && !s.OpensAt.IsZero() && !s.ClosesAt.After(s.OpensAt):
		return fmt.Errorf("room %q: closes_at must be after opens_at", s.Name)
	case !utf8.ValidString(s.Message) || utf8.RuneCountInString(s.Message) > MaxMessageLen:
		return fmt.Errorf("room %q: message must be text of at most %d characters", s.Name, MaxMessageLen)
	case strings.ContainsFunc(s.Message, unicode.IsControl):
		return fmt.Errorf("room %q: message must be one line of text, without control characters", s.Name)
	}
	return nil
}
