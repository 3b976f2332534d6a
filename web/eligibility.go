package web

import (
	"time"

	"github.com/sluicehq/sluice/booking"
)

// eligibilityDoc is the public JSON body of
// GET /api/v1/eligibility?birth_date=YYYY-MM-DD, also the "eligibility" of
// a session and of a not_eligible problem. Times are RFC 3339 in Seoul
// (+09:00); absent values are null.
type eligibilityDoc struct {
	Eligible          bool       `json:"eligible"`
	CampaignID        *string    `json:"campaign_id"` // the campaign answering, e.g. "2021-08-18-49"
	Cohort            *string    `json:"cohort"`      // cohort name (Korean), e.g. "53~54세"
	CohortID          *string    `json:"cohort_id"`   // e.g. "53-54"
	CohortEN          *string    `json:"cohort_en"`   // e.g. "Ages 53-54"
	WindowOpensAt     *time.Time `json:"window_opens_at"`
	WindowClosesAt    *time.Time `json:"window_closes_at"`
	NextWindowOpensAt *time.Time `json:"next_window_opens_at"`
	Reason            string     `json:"reason"`
	Message           string     `json:"message"`
	MessageEN         string     `json:"message_en"`
}

// eligibilityJSON renders an eligibility as the API publishes it.
func eligibilityJSON(e booking.Eligibility) eligibilityDoc {
	r := eligibilityDoc{
		Eligible:          e.Eligible,
		Reason:            e.Reason,
		Message:           e.Message,
		MessageEN:         e.MessageEN,
		WindowOpensAt:     seoulSecond(e.WindowOpensAt),
		WindowClosesAt:    seoulSecond(e.WindowClosesAt),
		NextWindowOpensAt: seoulSecond(e.NextWindowOpensAt),
	}
	if e.Campaign != nil {
		id := e.Campaign.ID
		r.CampaignID = &id
	}
	if e.Cohort != nil {
		name, id, en := e.Cohort.Name, e.Cohort.ID, e.Cohort.NameEN
		r.Cohort, r.CohortID, r.CohortEN = &name, &id, &en
	}
	return r
}

// seoulSecond is t in Seoul time to the whole second, so that the JSON is
// exactly "2021-07-19T20:00:00+09:00" (nil stays nil).
func seoulSecond(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.In(booking.Seoul).Truncate(time.Second)
	return &v
}
