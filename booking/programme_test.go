package booking_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// One deployment runs both 2021 campaigns: July's rules in July, August's
// in August, one booking per person across them, statistics per campaign.
func TestProgrammeBooksEachCampaignInItsMonth(t *testing.T) {
	e := newEnv(t, "programme", t0, nil) // 2021-07-19 21:00: 53-54 open

	// The case: born 1990-08-19, asked on 9 August at 21:00.
	if el := e.svc.Programme().Eligibility(date(1990, 8, 19), time.Date(2021, 8, 9, 21, 0, 0, 0, booking.Seoul)); !el.Eligible || el.Campaign.ID != "2021-08-18-49" || el.Cohort.ID != "18-49" {
		t.Fatalf("1990-08-19 on 9 August: %+v, want open in 2021-08-18-49", el)
	}
	// In July the same person is told when August opens for them, not
	// that they are in no cohort.
	if el := e.svc.Programme().Eligibility(date(1990, 8, 19), t0); el.Reason != booking.ReasonNotYetOpen || el.Campaign.ID != "2021-08-18-49" ||
		!el.WindowOpensAt.Equal(time.Date(2021, 8, 9, 20, 0, 0, 0, booking.Seoul)) {
		t.Fatalf("1990-08-19 in July: %+v", el)
	}
	if el := e.svc.Programme().Eligibility(date(1940, 1, 1), t0); el.Reason != booking.ReasonNotInAnyCohort || el.Campaign != nil {
		t.Fatalf("1940: %+v", el)
	}

	july := newPerson(1, date(1967, 3, 3))
	jb := e.book(e.verify(july), clinicSmall, date(2021, 7, 26), 1)
	if jb.CampaignID != "2021-07-50s" || jb.CohortID != "53-54" {
		t.Fatalf("July booking in %s/%s", jb.CampaignID, jb.CohortID)
	}

	e.clk.Set(time.Date(2021, 8, 9, 21, 0, 0, 0, booking.Seoul))
	aug := newPerson(2, date(1990, 8, 19))
	sess := e.verify(aug)
	if sess.CampaignID != "2021-08-18-49" || sess.CohortID != "18-49" {
		t.Fatalf("session %s/%s", sess.CampaignID, sess.CohortID)
	}
	ab := e.book(sess, clinicCentre, date(2021, 8, 16), 2)
	if ab.CampaignID != "2021-08-18-49" || ab.CohortID != "18-49" || ab.VaccineID == "" {
		t.Fatalf("August booking %+v", ab)
	}
	// Booking for someone else is not allowed in 18-49.
	_, err := e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinicSmall, Date: date(2021, 8, 16), Block: 3,
		ForPerson: &booking.PersonInput{Name: "박민수", RRN: rrn(date(1990, 8, 9), true, 20001)}})
	if !errors.Is(err, booking.ErrProxyNotAllowed) {
		t.Fatalf("proxy in 18-49: %v, want ErrProxyNotAllowed", err)
	}

	// The July booker looks their booking up in August: still theirs.
	if got, err := e.svc.BookingOf(ctx, e.verify(july).ID); err != nil || got.Number != jb.Number {
		t.Fatalf("BookingOf July booker in August: %v, %v", got.Number, err)
	}

	st, err := e.svc.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Campaigns) != 2 || st.Booked != 2 || st.Campaigns[0].Booked != 1 || st.Campaigns[1].Booked != 1 ||
		st.Population != st.Campaigns[0].Population+st.Campaigns[1].Population {
		t.Fatalf("stats %+v", st)
	}
	for _, cs := range st.Campaigns {
		for _, co := range cs.Cohorts {
			want := 0
			if cs.CampaignID == "2021-07-50s" && co.ID == "53-54" || cs.CampaignID == "2021-08-18-49" && co.ID == "18-49" {
				want = 1
			}
			if co.Booked != want {
				t.Errorf("%s/%s booked %d, want %d", cs.CampaignID, co.ID, co.Booked, want)
			}
		}
	}
}

// A person booked in one campaign cannot book in another: the store's one
// active booking per person holds across the programme, and they hear
// which booking they hold.
func TestProgrammeOneBookingPerPerson(t *testing.T) {
	e := newEnv(t, "programme", t0, nil)
	// A child books for a parent (55-59, open at t0), then the parent
	// tries in person.
	child := newPerson(3, date(1968, 5, 5))
	parent := newPerson(4, date(1966, 1, 9))
	sess := e.verify(child)
	pb, err := e.svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinicSmall, Date: date(2021, 7, 27), Block: 0,
		ForPerson: &booking.PersonInput{Name: parent.name, RRN: parent.rrn}})
	if err != nil || pb.CampaignID != "2021-07-50s" || pb.CohortID != "55-59" {
		t.Fatalf("proxy booking: %+v, %v", pb, err)
	}
	_, err = e.svc.Book(ctx, booking.BookInput{SessionID: e.verify(parent).ID, ClinicID: clinicSmall, Date: date(2021, 7, 28), Block: 0})
	var already *booking.AlreadyBookedError
	if !errors.As(err, &already) || already.Booking.Number != pb.Number {
		t.Fatalf("parent booking again: %v, want AlreadyBookedError naming %s", err, pb.Number)
	}
}

func TestNewProgrammeRefusesDuplicates(t *testing.T) {
	c, err := booking.ShippedCampaign("2021-07-50s")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := booking.NewProgramme(); err == nil {
		t.Error("an empty programme was accepted")
	}
	if _, err := booking.NewProgramme(c, c); err == nil {
		t.Error("a campaign listed twice was accepted")
	}
	p, err := booking.ShippedProgramme()
	if err != nil {
		t.Fatal(err)
	}
	if ids := p.IDs(); len(ids) != 2 || ids[0] != "2021-07-50s" || ids[1] != "2021-08-18-49" {
		t.Errorf("shipped programme %v", ids)
	}
}
