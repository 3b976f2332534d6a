package booking

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// Booking for someone else (대리예약) in pages that keep no state of their
// own: the other person's name and RRN are checked once (StartProxy) and
// then carried between the steps sealed for the booker's session (a
// ProxyToken), never in clear and never in an address.

// maxProxyTokenLen bounds a ProxyToken as received.
const maxProxyTokenLen = 2048

// StartProxy checks a proxy booking's other person for the booker's
// session and returns a token that names them for that session only
// (sealed: useless with another session or after it ends), with their
// eligibility now. Errors, as Book's: ErrSessionExpired, *InputError,
// ErrProxySelf (one's own RRN), ErrProxyNotAllowed (the other person's
// cohort does not allow proxy booking, e.g. 18-49), *NotEligibleError.
func (s *Service) StartProxy(ctx context.Context, sessionID string, in PersonInput) (string, Eligibility, error) {
	sess, err := s.Session(ctx, sessionID)
	if err != nil {
		return "", Eligibility{}, err
	}
	in.Phone = "" // the confirmation goes to the booker's verified phone
	p, err := s.proxyBookee(sess, &in)
	if err != nil {
		return "", Eligibility{}, err
	}
	el := s.programme.Eligibility(p.birth, s.clock.Now())
	if el.Cohort != nil && !el.Cohort.ProxyBooking {
		return "", el, ErrProxyNotAllowed
	}
	if !el.Eligible {
		return "", el, &NotEligibleError{Eligibility: el}
	}
	sealed, err := s.sealJSON("proxy", sessionID, sess.PersonKey, in)
	if err != nil {
		return "", Eligibility{}, err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), el, nil
}

// OpenProxy returns the other person a ProxyToken names, with their
// eligibility now; ErrSessionExpired if the token is not one of this
// session's.
func (s *Service) OpenProxy(ctx context.Context, sessionID, token string) (PersonInput, Eligibility, error) {
	sess, err := s.Session(ctx, sessionID)
	if err != nil {
		return PersonInput{}, Eligibility{}, err
	}
	sealed, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(token) > maxProxyTokenLen {
		return PersonInput{}, Eligibility{}, ErrSessionExpired
	}
	// Opened here rather than by openJSON: a token that does not open is
	// the client's (a stale or altered cookie), not a lost key to report.
	var in PersonInput
	b, err := s.sealer.Open(nil, sealed, sealContext("proxy", sessionID, sess.PersonKey))
	if err != nil || json.Unmarshal(b, &in) != nil {
		return PersonInput{}, Eligibility{}, ErrSessionExpired
	}
	p, err := s.proxyBookee(sess, &in)
	if err != nil {
		return PersonInput{}, Eligibility{}, fmt.Errorf("proxy token: %w", err)
	}
	return in, s.programme.Eligibility(p.birth, s.clock.Now()), nil
}

// ProxyBookingOf returns the active booking of the person a ProxyToken
// names, if this session's person booked it (ErrNotFound otherwise).
func (s *Service) ProxyBookingOf(ctx context.Context, sessionID, token string) (_ Booking, err error) {
	in, _, err := s.OpenProxy(ctx, sessionID, token)
	if err != nil {
		return Booking{}, err
	}
	sess, err := s.Session(ctx, sessionID)
	if err != nil {
		return Booking{}, err
	}
	defer s.noteStore(&err)
	_, r, err := parseNameRRN(in.Name, in.RRN)
	if err != nil {
		return Booking{}, err
	}
	b, err := s.store.ActiveBooking(ctx, PersonKey(s.secret, r))
	if err != nil {
		return Booking{}, err
	}
	if b.BookedBy != sess.PersonKey {
		return Booking{}, ErrNotFound
	}
	return b, nil
}
