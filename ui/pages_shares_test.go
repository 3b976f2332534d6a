package ui_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/config"
)

// The change pages show a booking made in a window with a share what its
// window's share leaves it: a block whose share is used up offers no
// change, its confirm step and a change sent anyway answer slot full.
func TestChangePagesFollowTheWindowShare(t *testing.T) {
	now := time.Date(2021, 8, 9, 21, 0, 0, 0, booking.Seoul) // the day-09 window
	a := demoApp(t, func(_ *config.Config, o *app.Options) { o.DemoAt = now })
	svc := a.Booking()
	c := svc.Programme().Campaign("2021-08-18-49")
	if c == nil || c.Shares == nil {
		t.Fatal("the demo has no August campaign with shares")
	}
	var w *booking.Window
	for i := range c.Cohorts {
		for j := range c.Cohorts[i].Windows {
			if c.Cohorts[i].Windows[j].ID == "day-09" {
				w = &c.Cohorts[i].Windows[j]
			}
		}
	}
	day := booking.Date{Year: 2021, Month: time.August, Day: 23}
	res := svc.Availability().Search(booking.SearchQuery{RegionCode: "11", DistrictCode: "11680", Date: day})
	if len(res) == 0 {
		t.Fatal("no clinic in Gangnam")
	}
	clinic := res[0].Clinic
	// full: the block with the smallest share of day-09 (at least one
	// place), used up below; own: another block with a share, where the
	// person books.
	full, own := -1, -1
	shareOf := func(b int) booking.ShareLimit {
		sl := booking.Slot{ClinicID: clinic.ID, Date: day, Block: booking.TimeBlock(b)}
		sh, ok := c.ShareFor(w, sl, svc.Availability().Capacity(sl), now)
		if !ok {
			t.Fatalf("%v: no share for day-09", sl)
		}
		return sh
	}
	for b := range booking.BlocksPerDay {
		if n := shareOf(b).Capacity; n > 0 && (full < 0 || n < shareOf(full).Capacity) {
			full = b
		}
	}
	for b := range booking.BlocksPerDay {
		if b != full && shareOf(b).Capacity > 0 {
			own = b
			break
		}
	}
	if full < 0 || own < 0 {
		t.Fatal("no two blocks with a share for day-09")
	}
	ctx := context.Background()
	book := func(i, b int) (name, rrn string, bk booking.Booking) {
		t.Helper()
		name, rrn = "김민수", booking.FormatRRN(booking.Date{Year: 1980 + i%20, Month: time.Month(1 + i%12), Day: 9 + 10*(i%2)}, i%2 == 0, 20000+i)
		vs, err := svc.StartVerification(ctx, name, rrn, fmt.Sprintf("010-3%03d-1234", i))
		if err != nil {
			t.Fatal(err)
		}
		sess, err := svc.CompleteVerification(ctx, vs.ChallengeID, vs.DemoCode)
		if err != nil {
			t.Fatal(err)
		}
		bk, err = svc.Book(ctx, booking.BookInput{SessionID: sess.ID, ClinicID: clinic.ID, Date: day, Block: booking.TimeBlock(b)})
		if err != nil {
			t.Fatalf("booking %d at block %d: %v", i, b, err)
		}
		return name, rrn, bk
	}
	for i := range shareOf(full).Capacity {
		book(i, full)
	}
	name, rrn, bk := book(100, own)
	if bk.ShareKey == "" {
		t.Fatal("booked without a share")
	}

	b := newCitBrowser(t, a.URL())
	b.get("/book")
	if p := b.post("/booking", url.Values{"name": {name}, "rrn": {rrn}, "number": {bk.Number}}); p.url != "/booking/view" {
		t.Fatalf("look-up: %d at %s", p.status, p.url)
	}
	p := b.get("/booking/change?region=11&district=11680&date=" + day.String())
	offered := map[int]string{}
	for _, m := range citChangeRE.FindAllStringSubmatch(p.body, -1) {
		link := html.UnescapeString(m[1])
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		if q := u.Query(); q.Get("clinic") == fmt.Sprint(clinic.ID) {
			var blk int
			fmt.Sscan(q.Get("block"), &blk)
			offered[blk] = link
		}
	}
	if _, ok := offered[full]; ok {
		t.Fatalf("block %d, whose share is used up, is offered for a change", full)
	}
	if _, ok := offered[own]; !ok {
		t.Fatalf("the booking's own block %d is not offered (offered: %v)", own, offered)
	}
	confirm := fmt.Sprintf("/booking/change/confirm?clinic=%d&date=%s&block=%d", clinic.ID, day, full)
	if p = b.get(confirm); p.status == http.StatusOK {
		t.Fatalf("confirm step for a used-up share: %d", p.status)
	}
	// A change sent anyway is refused by the service.
	form := citHidden(b.get(offered[own]).body)
	if form.Get("idempotency_key") == "" {
		t.Fatalf("no change form for the own block: %v", form)
	}
	form.Set("block", fmt.Sprint(full))
	form.Set("idempotency_key", "share-full")
	if p = b.post("/booking/change", form); p.status != http.StatusConflict {
		t.Fatalf("change into a used-up share: %d\n%s", p.status, p.body)
	}
	if got, err := svc.Lookup(ctx, name, rrn, bk.Number); err != nil || got.Dose1.Block != booking.TimeBlock(own) {
		t.Fatalf("after the refused change: block %d, %v; want %d", got.Dose1.Block, err, own)
	}
}
