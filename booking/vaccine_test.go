package booking

import (
	"reflect"
	"testing"
	"time"
)

func TestSecondDoseDates(t *testing.T) {
	d := func(s string) Date { return mustDate(t, s) }
	pfizer6w := &Vaccine{ID: "pfizer", Intervals: []IntervalRule{
		{From: Date{2020, 12, 1}, DefaultDays: 21, EarliestDays: 21, LatestDays: 42},
		{From: Date{2021, 7, 26}, DefaultDays: 42, EarliestDays: 35, LatestDays: 42},
	}}
	az := &Vaccine{ID: "astrazeneca", Intervals: []IntervalRule{
		{From: Date{2021, 1, 1}, DefaultDays: 77, EarliestDays: 70, LatestDays: 84},
	}}
	tests := []struct {
		name  string
		v     *Vaccine
		dose1 Date
		want  []Date
	}{
		{
			// Thu 2021-08-26 + 42 = Thu 2021-10-07; window 35..42 = 09-30..10-07;
			// 10-03 is a Sunday.
			"6 weeks, default at the end of the window", pfizer6w, d("2021-08-26"),
			[]Date{d("2021-10-07"), d("2021-10-06"), d("2021-10-05"), d("2021-10-04"), d("2021-10-02"), d("2021-10-01"), d("2021-09-30")},
		},
		{
			// Mon 2021-07-19 (before the 6-week rule) + 21 = Mon 08-09; 21..42 days.
			"3 weeks, default at the start of the window", pfizer6w, d("2021-07-19"),
			[]Date{d("2021-08-09"), d("2021-08-10"), d("2021-08-11"), d("2021-08-12"), d("2021-08-13"), d("2021-08-14"),
				d("2021-08-16"), d("2021-08-17"), d("2021-08-18"), d("2021-08-19"), d("2021-08-20"), d("2021-08-21"),
				d("2021-08-23"), d("2021-08-24"), d("2021-08-25"), d("2021-08-26"), d("2021-08-27"), d("2021-08-28"),
				d("2021-08-30")},
		},
		{
			// Mon 2021-03-01 + 77 = Mon 05-17: alternate after/before, skip Sundays (05-16, 05-23, 05-09).
			"11 weeks, alternating", az, d("2021-03-01"),
			[]Date{d("2021-05-17"), d("2021-05-18"), d("2021-05-19"), d("2021-05-15"), d("2021-05-20"), d("2021-05-14"),
				d("2021-05-21"), d("2021-05-13"), d("2021-05-22"), d("2021-05-12"), d("2021-05-11"),
				d("2021-05-24"), d("2021-05-10")},
		},
		{
			// Sat 2021-03-06 + 77 = Sat 05-22; 05-23 (Sun) skipped, 05-16 (Sun) skipped.
			"default date kept, Sunday after it skipped", az, d("2021-03-06"),
			[]Date{d("2021-05-22"), d("2021-05-21"), d("2021-05-24"), d("2021-05-20"), d("2021-05-25"), d("2021-05-19"),
				d("2021-05-26"), d("2021-05-18"), d("2021-05-27"), d("2021-05-17"), d("2021-05-28"), d("2021-05-29"), d("2021-05-15")},
		},
		{"no rule yet", az, d("2020-12-31"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.v.SecondDoseDates(tt.dose1)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

// Properties over every first-dose date of 2021 and every shipped vaccine.
func TestSecondDoseDatesProperties(t *testing.T) {
	all, err := ShippedCampaigns()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		for i := range c.Vaccines {
			v := &c.Vaccines[i]
			t.Run(c.ID+"/"+v.ID, func(t *testing.T) {
				for _, dose1 := range allBirthDates(Date{2021, 1, 1}, Date{2021, 12, 31}) {
					r, ok := v.Interval(dose1)
					if !ok {
						t.Fatalf("%v: no rule", dose1)
					}
					got := v.SecondDoseDates(dose1)
					if len(got) == 0 {
						t.Fatalf("%v: no dates", dose1)
					}
					def := dose1.AddDays(r.DefaultDays)
					if def.Weekday() != time.Sunday && got[0] != def {
						t.Errorf("%v: first %v, want the default %v", dose1, got[0], def)
					}
					seen := map[Date]bool{}
					lastDist := -1
					for _, d := range got {
						n := dose1.DaysUntil(d)
						if n < r.EarliestDays || n > r.LatestDays {
							t.Errorf("%v: %v is %d days later, outside %d..%d", dose1, d, n, r.EarliestDays, r.LatestDays)
						}
						if d.Weekday() == time.Sunday {
							t.Errorf("%v: %v is a Sunday", dose1, d)
						}
						if seen[d] {
							t.Errorf("%v: %v twice", dose1, d)
						}
						seen[d] = true
						dist := n - r.DefaultDays
						if dist < 0 {
							dist = -dist
						}
						if dist < lastDist {
							t.Errorf("%v: %v is nearer the default than the date before it", dose1, d)
						}
						lastDist = dist
					}
					// Every non-Sunday date of the window is offered.
					for n := r.EarliestDays; n <= r.LatestDays; n++ {
						if d := dose1.AddDays(n); d.Weekday() != time.Sunday && !seen[d] {
							t.Errorf("%v: %v (day %d) missing", dose1, d, n)
						}
					}
				}
			})
		}
	}
}

func TestVaccineInterval(t *testing.T) {
	v := &Vaccine{Intervals: []IntervalRule{ // deliberately out of order
		{From: Date{2021, 9, 27}, DefaultDays: 28, EarliestDays: 28, LatestDays: 42},
		{From: Date{2020, 12, 1}, DefaultDays: 28, EarliestDays: 28, LatestDays: 42},
		{From: Date{2021, 7, 19}, DefaultDays: 42, EarliestDays: 35, LatestDays: 42},
	}}
	for _, tt := range []struct {
		dose1 Date
		from  Date
		ok    bool
	}{
		{Date{2020, 11, 30}, Date{}, false},
		{Date{2020, 12, 1}, Date{2020, 12, 1}, true},
		{Date{2021, 7, 18}, Date{2020, 12, 1}, true},
		{Date{2021, 7, 19}, Date{2021, 7, 19}, true},
		{Date{2021, 9, 26}, Date{2021, 7, 19}, true},
		{Date{2021, 9, 27}, Date{2021, 9, 27}, true},
		{Date{2022, 1, 1}, Date{2021, 9, 27}, true},
	} {
		r, ok := v.Interval(tt.dose1)
		if ok != tt.ok || r.From != tt.from {
			t.Errorf("%v: %+v %v, want from %v %v", tt.dose1, r, ok, tt.from, tt.ok)
		}
	}
}
