package room

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sluicehq/sluice/internal/localurl"
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
	// Pacing is how the admission rate is chosen (pacing.go).
	Pacing Pacing `json:"pacing"`
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

// roomNameRE allows names of up to MaxRoomName bytes, the most a token
// carries.
var roomNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,` + strconv.Itoa(MaxRoomName-1) + `}$`)

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
	s.Pacing = s.Pacing.withDefaults()
	if s.PrequeueAt.IsZero() { // IsZero, not ==: a zero time may carry a location
		s.PrequeueAt = s.OpensAt
	}
	s.normalizeWords()
	return s
}

// normalizeWords writes the operator's words to the line in one form: the
// message trimmed, the expected resume as the shared state keeps it (UTC,
// milliseconds), since controls compare with ==. Room.Update, which fills
// no defaults, applies it too.
func (s *Settings) normalizeWords() {
	s.Message = strings.TrimSpace(s.Message)
	if s.ResumeAt.IsZero() {
		s.ResumeAt = time.Time{}
	} else {
		s.ResumeAt = time.UnixMilli(s.ResumeAt.UnixMilli()).UTC()
	}
}

// orDefault sets an unset (zero) setting to d.
func orDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// Bounds of the numeric settings: Validate refuses anything outside them.
// They are wide enough for any real room and narrow enough to catch a
// misplaced digit, a unit mistaken for another, or a zero meant as "stop"
// (pausing the room is the way to stop admissions).
const (
	MinCapacity     = 1
	MaxCapacity     = 10_000_000
	MinRate         = 0.001 // admissions per second: one every 17 minutes
	MaxRate         = 1_000_000
	MinPassTTL      = 10 * time.Second
	MaxPassTTL      = 24 * time.Hour
	MinClaimTimeout = 5 * time.Second
	MaxClaimTimeout = time.Hour
	MinPollBudget   = 1 // status requests per second, for the whole line
	MaxPollBudget   = 10_000_000
	MinMinPoll      = 100 * time.Millisecond
	MaxMinPoll      = time.Minute
	// A person at the front polls every min_poll; the place admitted to
	// them must wait for at least two of their polls.
	minClaimPolls = 2
)

// The operator's expected resume, when set, is a time of the years
// MinResumeYear to MaxResumeYear (UTC), this century: any other year is a
// mistyped one (0202 for 2021).
const (
	MinResumeYear = 2000
	MaxResumeYear = 2099
)

var (
	minResumeAt = time.Date(MinResumeYear, 1, 1, 0, 0, 0, 0, time.UTC)
	maxResumeAt = time.Date(MaxResumeYear+1, 1, 1, 0, 0, 0, 0, time.UTC)
)

// SettingError is a setting Validate refuses. Field is its name in the
// configuration file and the admin API ("capacity", "rate", ...).
type SettingError struct {
	Room, Field, Problem string
}

func (e *SettingError) Error() string {
	return fmt.Sprintf("room %q: %s %s", e.Room, e.Field, e.Problem)
}

// Validate reports the first problem with the settings as a *SettingError
// naming the field. It is the one check of a room's settings, whoever
// gives them: the configuration file, the admin API, the dashboard.
func (s Settings) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &SettingError{Room: s.Name, Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	switch {
	case !ValidRoomName(s.Name):
		return bad("name", "must be 1-64 lower-case letters, digits, '-' or '_'")
	case s.Capacity < MinCapacity || s.Capacity > MaxCapacity:
		return bad("capacity", "must be between %d and %d people admitted at once, got %d%s", MinCapacity, MaxCapacity, s.Capacity, stopHint(s.Capacity == 0))
	case !(s.Rate >= MinRate && s.Rate <= MaxRate):
		return bad("rate", "must be between %v and %v admissions per second, got %v%s", MinRate, MaxRate, s.Rate, stopHint(s.Rate == 0))
	case s.PassTTL < MinPassTTL || s.PassTTL > MaxPassTTL:
		return bad("pass_ttl", "must be between %v and %v, got %v", MinPassTTL, MaxPassTTL, s.PassTTL)
	case s.ClaimTimeout < MinClaimTimeout || s.ClaimTimeout > MaxClaimTimeout:
		return bad("claim_timeout", "must be between %v and %v, got %v", MinClaimTimeout, MaxClaimTimeout, s.ClaimTimeout)
	case !(s.PollBudget >= MinPollBudget && s.PollBudget <= MaxPollBudget):
		return bad("poll_budget", "must be between %d and %d status requests per second, got %v", MinPollBudget, MaxPollBudget, s.PollBudget)
	case s.MinPoll < MinMinPoll || s.MinPoll > MaxMinPoll:
		return bad("min_poll", "must be between %v and %v, got %v", MinMinPoll, MaxMinPoll, s.MinPoll)
	case s.ClaimTimeout < minClaimPolls*s.MinPoll:
		return bad("claim_timeout", "must be at least %d times min_poll (%v), or people at the front of the line may lose their turn between two polls; got %v", minClaimPolls, s.MinPoll, s.ClaimTimeout)
	case !validWaitingURL(s.WaitingURL):
		return bad("waiting_url", "must be a path of this site (/wait/%s) or an https:// URL without user or fragment, got %q", s.Name, s.WaitingURL)
	case !s.OpensAt.IsZero() && s.PrequeueAt.After(s.OpensAt):
		return bad("prequeue_at", "must not be after opens_at")
	case !s.ClosesAt.IsZero() && !s.OpensAt.IsZero() && !s.ClosesAt.After(s.OpensAt):
		return bad("closes_at", "must be after opens_at")
	case !utf8.ValidString(s.Message) || utf8.RuneCountInString(s.Message) > MaxMessageLen:
		return bad("message", "must be text of at most %d characters", MaxMessageLen)
	case strings.ContainsFunc(s.Message, unicode.IsControl):
		return bad("message", "must be one line of text, without control characters")
	case !s.ResumeAt.IsZero() && (s.ResumeAt.Before(minResumeAt) || !s.ResumeAt.Before(maxResumeAt)):
		return bad("resume_at", "must be a time from %d to %d, got %s", MinResumeYear, MaxResumeYear, s.ResumeAt.Format(time.RFC3339))
	}
	return s.Pacing.validate(bad)
}

// stopHint is what an operator who wrote 0 to stop admissions is told.
func stopHint(zero bool) string {
	if zero {
		return " (to stop admissions, pause the room: POST /api/v1/admin/rooms/{room}/pause, or the dashboard's pause button)"
	}
	return ""
}

// validWaitingURL: a path of this site, written as a browser reads it
// (localurl.Path leaves it as it is), or an absolute https URL with a host
// and no user or fragment, written without anything a browser would read
// differently from Go (spaces, controls, backslashes).
func validWaitingURL(s string) bool {
	if p, ok := localurl.Path(s); ok {
		return p == s
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' }) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil && u.Fragment == "" && !strings.Contains(s, "#")
}
