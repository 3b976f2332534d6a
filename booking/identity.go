package booking

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/internal/ttl"
)

const (
	// ChallengeTTL is how long a verification code stays valid.
	ChallengeTTL = 5 * time.Minute
	// MaxCodeAttempts is the number of codes a person may try per
	// challenge; the last wrong one ends the challenge (ErrTooManyAttempts).
	MaxCodeAttempts = 5
	// maxDemoChallenges bounds the demo provider's memory.
	maxDemoChallenges = 200_000
)

// VerifyStart is what an identity check starts from.
type VerifyStart struct {
	Name  string // normalised (ValidName)
	Phone string // digits (ParsePhone)
	// RRN is there so that a real provider can pass it to the identity
	// authority during Start. A provider must not keep, log or store it
	// after Start returns.
	RRN RRN
}

// IdentityProvider verifies that a person holds the identity (name, RRN,
// phone) they typed: Start sends a code (or starts an app-based check) and
// returns a challenge id, Check tells whether the code answers it.
//
// Check returns (false, nil) for a wrong code that may be retried,
// ErrTooManyAttempts when the wrong code used up the challenge and
// ErrChallengeExpired for an unknown or expired challenge. A successful
// Check consumes the challenge.
//
// demoCode is the code itself, for demo providers only: the Service passes
// it to the person only when ServiceConfig.DemoMode is set. Real providers
// return "".
type IdentityProvider interface {
	Start(ctx context.Context, req VerifyStart) (challengeID string, demoCode string, err error)
	Check(ctx context.Context, challengeID, code string) (bool, error)
}

// DemoIdentity is an IdentityProvider for demos and development: it makes a
// random 6-digit code, sends it to the phone as a "verification" Message
// (the text holds the code only: no RRN, no name), and keeps challenges in
// memory for ChallengeTTL with at most MaxCodeAttempts tries. It is safe for
// concurrent use.
type DemoIdentity struct {
	clock  clock.Clock
	outbox func(Message) error
	// idPrefix and codeFor, when set, make a test provider (testidentity.go):
	// its challenge ids carry the prefix and its code is codeFor(id).
	idPrefix string
	codeFor  func(challengeID string) string

	challenges *ttl.Map[string, demoChallenge]
}

// demoChallenge is a code sent, and the wrong codes tried against it.
type demoChallenge struct {
	code     string
	attempts int
}

var _ IdentityProvider = (*DemoIdentity)(nil)

// NewDemoIdentity returns a demo provider that reads time from clk and
// sends codes with outbox (typically a Sender's Send). Verification codes
// are not booking data: they are sent at once, not through the store's
// transactional outbox.
func NewDemoIdentity(clk clock.Clock, outbox func(Message) error) *DemoIdentity {
	if clk == nil {
		clk = clock.System{}
	}
	return &DemoIdentity{clock: clk, outbox: outbox, challenges: ttl.New[string, demoChallenge](maxDemoChallenges)}
}

// Start makes a code, sends it to req.Phone and returns the challenge id and
// the code (as demoCode).
func (d *DemoIdentity) Start(ctx context.Context, req VerifyStart) (string, string, error) {
	if req.Phone == "" {
		return "", "", fmt.Errorf("demo identity: %w", ErrPhone)
	}
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	now := d.clock.Now()
	id := d.idPrefix + randomID(16)
	code := randomCode()
	if d.codeFor != nil {
		code = d.codeFor(id)
	}
	// The challenge is held before the code goes out, so that a code is
	// never sent for a challenge there was no room for.
	if !d.challenges.Put(id, demoChallenge{code: code}, now.Add(ChallengeTTL), now) {
		return "", "", ErrOverloaded
	}
	if d.outbox != nil {
		m := Message{
			Kind: "verification",
			To:   req.Phone,
			Body: "[Sluice] 본인확인 인증번호는 " + code + " 입니다. " +
				"5분 안에 입력해 주세요. 이 번호를 다른 사람에게 알려주지 마세요.",
			CreatedAt: now,
		}
		if err := d.outbox(m); err != nil {
			d.challenges.Delete(id)
			return "", "", fmt.Errorf("demo identity: send code: %w", err)
		}
	}
	return id, code, nil
}

// Check tells whether code answers the challenge.
func (d *DemoIdentity) Check(ctx context.Context, challengeID, code string) (good bool, err error) {
	now := d.clock.Now()
	err = ErrChallengeExpired
	d.challenges.Update(challengeID, now, func(c demoChallenge, expires time.Time, ok bool) (demoChallenge, time.Time, bool) {
		if !ok {
			return c, time.Time{}, false
		}
		err = nil
		c.attempts++
		if len(code) == len(c.code) && subtle.ConstantTimeCompare([]byte(code), []byte(c.code)) == 1 {
			good = true
			return c, time.Time{}, false // a code answers once
		}
		if c.attempts >= MaxCodeAttempts {
			err = ErrTooManyAttempts
			return c, time.Time{}, false
		}
		return c, expires, true
	})
	return good, err
}

// randomCode returns a uniformly random 6-digit code ("000000".."999999").
func randomCode() string {
	var b [4]byte
	for {
		rand.Read(b[:])
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		const limit = (1 << 32) / 1_000_000 * 1_000_000 // reject the biased tail
		if v < limit {
			return fmt.Sprintf("%06d", v%1_000_000)
		}
	}
}

// randomID returns n random bytes as unpadded base64url.
func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
