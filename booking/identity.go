package booking

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/internal/randid"
)

const (
	// ChallengeTTL is how long a verification code stays valid.
	ChallengeTTL = 5 * time.Minute
	// MaxCodeAttempts is the number of codes a person may try per
	// challenge; the last wrong one ends the challenge (ErrTooManyAttempts).
	MaxCodeAttempts = 5
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

// Challenge is an identity check in progress.
type Challenge struct {
	// ID is the provider's id of the check.
	ID string
	// State is what the provider needs to check a code (the code it sent,
	// a transaction id of the authority ...). The service keeps it sealed
	// in the challenge's token, which any node opens, and hands it back to
	// Check: a provider keeps nothing in memory.
	State []byte
	// DemoCode is the code itself, for demo providers only: the Service
	// passes it to the person only when ServiceConfig.DemoMode is set.
	// Real providers leave it empty.
	DemoCode string
	// Token, given to Check, is the challenge id the person was given and
	// sent back with the code (the service's sealed token).
	Token string
}

// IdentityProvider verifies that a person holds the identity (name, RRN,
// phone) they typed: Start sends a code (or starts an app-based check),
// Check tells whether a code answers the challenge Start made.
//
// The service counts the attempts (MaxCodeAttempts), expires challenges
// (ChallengeTTL) and makes a challenge answer once. Check returns (false,
// nil) for a wrong code, ErrChallengeExpired if the provider no longer
// knows the challenge, and any other error for a provider that failed.
type IdentityProvider interface {
	Start(ctx context.Context, req VerifyStart) (Challenge, error)
	Check(ctx context.Context, c Challenge, code string) (bool, error)
}

// DemoIdentity is an IdentityProvider for demos and development: it makes a
// random 6-digit code and sends it to the phone as a "verification" Message
// (the text holds the code only: no RRN, no name). The code is the
// challenge's State. It is safe for concurrent use.
type DemoIdentity struct {
	clock  clock.Clock
	outbox func(Message) error
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
	return &DemoIdentity{clock: clk, outbox: outbox}
}

// Start makes a code and sends it to req.Phone.
func (d *DemoIdentity) Start(ctx context.Context, req VerifyStart) (Challenge, error) {
	if req.Phone == "" {
		return Challenge{}, fmt.Errorf("demo identity: %w", ErrPhone)
	}
	if err := ctx.Err(); err != nil {
		return Challenge{}, err
	}
	code := randomCode()
	if d.outbox != nil {
		m := Message{
			Kind: "verification",
			To:   req.Phone,
			Body: "[Sluice] 본인확인 인증번호는 " + code + " 입니다. " +
				"5분 안에 입력해 주세요. 이 번호를 다른 사람에게 알려주지 마세요.",
			CreatedAt: d.clock.Now(),
		}
		if err := d.outbox(m); err != nil {
			return Challenge{}, fmt.Errorf("demo identity: send code: %w", err)
		}
	}
	return Challenge{ID: randid.New(16), State: []byte(code), DemoCode: code}, nil
}

// Check tells whether code is the one Start sent.
func (d *DemoIdentity) Check(ctx context.Context, c Challenge, code string) (bool, error) {
	return sameCode(c.State, code), nil
}

// sameCode compares a code typed with the one expected, in constant time.
func sameCode(want []byte, got string) bool {
	return len(want) > 0 && len(got) == len(want) && subtle.ConstantTimeCompare([]byte(got), want) == 1
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
