package booking

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/internal/randid"
)

// TestPhonePrefix starts the phone numbers of test identities:
// 010-1XXX-XXXX. Korean mobile numbers are not issued with a subscriber
// part starting with 0 or 1, so these numbers belong to nobody.
const TestPhonePrefix = "0101"

// testChallengePrefix marks the test provider's challenge ids. '.' is not
// in the base64url alphabet of DemoIdentity's ids, so no other id has it.
const testChallengePrefix = "test."

// MinTestIdentitySecret is the shortest secret NewTestIdentity accepts.
const MinTestIdentitySecret = 32

// TestIdentityCode is the verification code of a test identity's
// challenge: whoever holds the secret computes it from the challenge id
// (the challenge_id the API answers), so a load generator (sluice loadtest
// --flow) can verify test people against a running server without any
// code being delivered anywhere.
func TestIdentityCode(secret []byte, challengeID string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("sluice-test-identity-v1\x00"))
	m.Write([]byte(challengeID))
	v := binary.BigEndian.Uint64(m.Sum(nil)) % 1_000_000
	return fmt.Sprintf("%06d", v)
}

// TestIdentity is an IdentityProvider for load tests of a real server. A
// phone in the test range (TestPhonePrefix) is verified with the code
// TestIdentityCode(secret, challenge id), sent to nobody; every other phone
// goes to the real provider, so real people are never verified this way.
// The server enables it only when SLUICE_TEST_IDENTITY_SECRET is set (see
// docs/CONFIG.md).
type TestIdentity struct {
	real IdentityProvider
	key  []byte
}

var _ IdentityProvider = (*TestIdentity)(nil)

// NewTestIdentity returns a provider that verifies test phones with codes
// derived from secret (at least MinTestIdentitySecret bytes) and hands
// every other phone to real.
func NewTestIdentity(secret []byte, real IdentityProvider) (*TestIdentity, error) {
	if len(secret) < MinTestIdentitySecret {
		return nil, fmt.Errorf("test identity: the secret must be at least %d bytes", MinTestIdentitySecret)
	}
	if real == nil {
		return nil, fmt.Errorf("test identity: a real provider is required for the other phones")
	}
	return &TestIdentity{real: real, key: append([]byte(nil), secret...)}, nil
}

// IsTestPhone reports whether a phone (digits, as ParsePhone returns it)
// is in the test range.
func IsTestPhone(phone string) bool { return strings.HasPrefix(phone, TestPhonePrefix) }

// Start starts a test challenge for a test phone (nothing is sent, and the
// code is not returned: its holder derives it) and a real one otherwise.
func (t *TestIdentity) Start(ctx context.Context, req VerifyStart) (Challenge, error) {
	if !IsTestPhone(req.Phone) {
		return t.real.Start(ctx, req)
	}
	if err := ctx.Err(); err != nil {
		return Challenge{}, err
	}
	return Challenge{ID: testChallengePrefix + randid.New(16)}, nil
}

// Check checks a code against the provider that started the challenge. A
// challenge reaches Check only as Start made it (the service seals it), so
// a real provider's challenge never has the test prefix.
func (t *TestIdentity) Check(ctx context.Context, c Challenge, code string) (bool, error) {
	if strings.HasPrefix(c.ID, testChallengePrefix) {
		return sameCode([]byte(TestIdentityCode(t.key, c.Token)), code), nil
	}
	return t.real.Check(ctx, c, code)
}
