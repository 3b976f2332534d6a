package booking

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	avtMon = Date{2021, time.July, 26} // Monday
	avtSat = Date{2021, time.July, 31}
	avtSun = Date{2021, time.August, 1}
)

// avtClinics is a small hand-made set: two districts of Seoul, one of Busan.
func avtClinics() []Clinic {
	return []Clinic{
		{ID: 10, Name: "나래내과의원", Kind: KindClinic, RegionCode: "11", DistrictCode: "11680",
			Vaccines: []string{"astrazeneca"}, BlockCapacity: 13, OpenDays: MondayToFriday},
		{ID: 11, Name: "가나의원", Kind: KindClinic, RegionCode: "11", DistrictCode: "11680",
			Vaccines: []string{"pfizer", "astrazeneca"}, BlockCapacity: 25, OpenDays: MondayToSaturday},
		{ID: 12, Name: "강남구 예방접종센터", Kind: KindCentre, RegionCode: "11", DistrictCode: "11680",
			Vaccines: []string{"pfizer", "moderna"}, BlockCapacity: 75, OpenDays: MondayToSaturday},
		{ID: 20, Name: "다솜의원", Kind: KindClinic, RegionCode: "11", DistrictCode: "11710",
			Vaccines: []string{"astrazeneca"}, BlockCapacity: 25, OpenDays: MondayToSaturday},
		{ID: 30, Name: "부산의원", Kind: KindClinic, RegionCode: "26", DistrictCode: "26110",
			Vaccines: []string{"moderna"}, BlockCapacity: 38, OpenDays: MondayToSaturday},
	}
}

func avtIDs(rs []ClinicAvailability) []int64 {
	var out []int64
	for _, r := range rs {
		out = append(out, r.Clinic.ID)
	}
	return out
}

func TestAvailabilityAddFree(t *testing.T) {
	a := NewAvailability(avtClinics())
	s := Slot{ClinicID: 11, Date: avtMon, Block: 2}
	steps := []struct {
		name        string
		slot        Slot
		delta       int
		booked, fre int
	}{
		{"empty", s, 0, 0, 25},
		{"book one", s, 1, 1, 24},
		{"book five", s, 5, 6, 19},
		{"cancel one", s, -1, 5, 20},
		{"fill up", s, 20, 25, 0},
		{"overbook stays at zero free", s, 3, 28, 0},
		{"cancel back", s, -28, 0, 25},
		{"cancel below zero reads zero", s, -2, 0, 25},
		{"booking nets back to zero", s, 2, 0, 25},
		{"other block untouched", Slot{11, avtMon, 3}, 0, 0, 25},
		{"closed Sunday", Slot{11, avtSun, 0}, 1, 1, 0},
		{"Saturday closed for 10", Slot{10, avtSat, 0}, 0, 0, 0},
		{"unknown clinic ignored", Slot{99, avtMon, 0}, 1, 0, 0},
		{"block 8 ignored", Slot{11, avtMon, BlocksPerDay}, 1, 0, 0},
		{"block -1 ignored", Slot{11, avtMon, -1}, 1, 0, 0},
		{"30 February ignored", Slot{11, Date{2021, time.February, 30}, 0}, 1, 0, 0},
		{"last block", Slot{12, avtMon, BlocksPerDay - 1}, 75, 75, 0},
		{"neighbour lane intact", Slot{12, avtMon, BlocksPerDay - 2}, 0, 0, 75},
	}
	for _, st := range steps {
		a.Add(st.slot, st.delta)
		if got := a.Booked(st.slot); got != st.booked {
			t.Errorf("%s: Booked = %d, want %d", st.name, got, st.booked)
		}
		if got := a.Free(st.slot); got != st.fre {
			t.Errorf("%s: Free = %d, want %d", st.name, got, st.fre)
		}
	}
	if b, f := a.DayStats(11, avtMon); b != 0 || f != 200 {
		t.Errorf("DayStats(11, Mon) = %d, %d", b, f)
	}
	if b, f := a.DayStats(12, avtMon); b != 75 || f != 525 {
		t.Errorf("DayStats(12, Mon) = %d, %d", b, f)
	}
	if b, f := a.DayStats(99, avtMon); b != 0 || f != 0 {
		t.Errorf("DayStats(unknown) = %d, %d", b, f)
	}
	// Capacity follows the clinic data and fits BookRequest.SlotCapacity.
	var capFn func(Slot) int = a.Capacity
	for _, c := range avtClinics() {
		for _, d := range []Date{avtMon, avtSat, avtSun} {
			for b := TimeBlock(-1); b <= BlocksPerDay; b++ {
				if got, want := capFn(Slot{c.ID, d, b}), c.Capacity(b, d); got != want {
					t.Errorf("Capacity(%d, %s, %d) = %d, want %d", c.ID, d, b, got, want)
				}
			}
		}
	}
	if c, ok := a.Clinic(30); !ok || c.Name != "부산의원" {
		t.Errorf("Clinic(30) = %v, %v", c, ok)
	}
	if _, ok := a.Clinic(31); ok {
		t.Error("Clinic(31) found")
	}
}

func TestAvailabilitySaturation(t *testing.T) {
	a := NewAvailability(avtClinics())
	s := Slot{30, avtMon, 1}
	a.Add(s, 1<<20)
	if got := a.Booked(s); got != 32767 {
		t.Errorf("Booked after huge add = %d", got)
	}
	a.Add(s, -(1 << 21))
	if got := a.Booked(s); got != 0 {
		t.Errorf("Booked after huge cancel = %d", got)
	}
	for b := TimeBlock(0); b < BlocksPerDay; b++ {
		if b != 1 && a.Booked(Slot{30, avtMon, b}) != 0 {
			t.Errorf("block %d disturbed", b)
		}
	}
}

func TestAvailabilityLoad(t *testing.T) {
	a := NewAvailability(avtClinics())
	a.Add(Slot{10, avtMon, 0}, 4) // replaced by Load
	a.Load([]SlotCount{
		{Slot{11, avtMon, 0}, 3},
		{Slot{11, avtMon, 0}, 2}, // duplicate rows add up
		{Slot{12, avtSat, 7}, 75},
		{Slot{99, avtMon, 0}, 9},   // unknown clinic
		{Slot{11, avtMon, 9}, 9},   // bad block
		{Slot{11, Date{}, 0}, 9},   // bad date
		{Slot{20, avtMon, 0}, 0},   // nothing
		{Slot{30, avtSun, 4}, 100}, // closed day: kept, but no free
	})
	tests := []struct {
		s            Slot
		booked, free int
	}{
		{Slot{10, avtMon, 0}, 0, 13},
		{Slot{11, avtMon, 0}, 5, 20},
		{Slot{12, avtSat, 7}, 75, 0},
		{Slot{12, avtSat, 6}, 0, 75},
		{Slot{30, avtSun, 4}, 100, 0},
	}
	for _, tt := range tests {
		if b, f := a.Booked(tt.s), a.Free(tt.s); b != tt.booked || f != tt.free {
			t.Errorf("%+v: booked %d free %d, want %d %d", tt.s, b, f, tt.booked, tt.free)
		}
	}
	a.Add(Slot{11, avtMon, 0}, 1)
	if b := a.Booked(Slot{11, avtMon, 0}); b != 6 {
		t.Errorf("Add after Load: %d", b)
	}
}

func TestAvailabilitySearchFilters(t *testing.T) {
	a := NewAvailability(avtClinics())
	a.Add(Slot{12, avtMon, 0}, 75*BlocksPerDay) // not per block: saturates block 0 only
	for b := TimeBlock(0); b < BlocksPerDay; b++ {
		a.Add(Slot{20, avtMon, b}, 25) // 다솜의원 full on Monday
	}
	a.Add(Slot{11, avtMon, 4}, 10)
	tests := []struct {
		name string
		q    SearchQuery
		want []int64
	}{
		// Free on Monday: 12: 525, 11: 190, 10: 104, 20: 0, 30: 304.
		{"nationwide", SearchQuery{Date: avtMon}, []int64{12, 30, 11, 10, 20}},
		{"Seoul", SearchQuery{RegionCode: "11", Date: avtMon}, []int64{12, 11, 10, 20}},
		{"Seoul only free", SearchQuery{RegionCode: "11", Date: avtMon, OnlyFree: true}, []int64{12, 11, 10}},
		{"Gangnam", SearchQuery{DistrictCode: "11680", Date: avtMon}, []int64{12, 11, 10}},
		{"Gangnam with region", SearchQuery{RegionCode: "11", DistrictCode: "11680", Date: avtMon}, []int64{12, 11, 10}},
		{"district outside region", SearchQuery{RegionCode: "26", DistrictCode: "11680", Date: avtMon}, nil},
		{"Songpa only free", SearchQuery{DistrictCode: "11710", Date: avtMon, OnlyFree: true}, nil},
		{"astrazeneca", SearchQuery{Date: avtMon, Vaccine: "astrazeneca"}, []int64{11, 10, 20}},
		{"pfizer in Seoul", SearchQuery{RegionCode: "11", Date: avtMon, Vaccine: "pfizer"}, []int64{12, 11}},
		{"moderna", SearchQuery{Date: avtMon, Vaccine: "moderna"}, []int64{12, 30}},
		{"unknown vaccine", SearchQuery{Date: avtMon, Vaccine: "novavax"}, nil},
		{"unknown region", SearchQuery{RegionCode: "99", Date: avtMon}, nil},
		{"unknown district", SearchQuery{DistrictCode: "11000", Date: avtMon}, nil},
		{"invalid date", SearchQuery{Date: Date{2021, time.June, 31}}, nil},
		// Saturday, nothing booked: 12: 600, 30: 304, then 11 and 20 tie at
		// 200 and go by name (가나의원 < 다솜의원); 10 is closed.
		{"Saturday", SearchQuery{Date: avtSat}, []int64{12, 30, 11, 20, 10}},
		{"Saturday only free", SearchQuery{Date: avtSat, OnlyFree: true}, []int64{12, 30, 11, 20}},
		{"Sunday only free", SearchQuery{Date: avtSun, OnlyFree: true}, nil},
		{"Sunday lists closed clinics by name", SearchQuery{RegionCode: "11", Date: avtSun}, []int64{11, 12, 10, 20}},
		{"limit", SearchQuery{Date: avtMon, Limit: 2}, []int64{12, 30}},
		{"offset", SearchQuery{Date: avtMon, Limit: 2, Offset: 2}, []int64{11, 10}},
		{"last page", SearchQuery{Date: avtMon, Limit: 2, Offset: 4}, []int64{20}},
		{"past the end", SearchQuery{Date: avtMon, Limit: 2, Offset: 5}, nil},
		{"negative offset", SearchQuery{Date: avtMon, Limit: 1, Offset: -3}, []int64{12}},
	}
	for _, tt := range tests {
		got := a.Search(tt.q)
		if ids := avtIDs(got); !slices.Equal(ids, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, ids, tt.want)
		}
	}
	// Result details.
	res := a.Search(SearchQuery{DistrictCode: "11680", Date: avtMon})
	c11 := res[1]
	if c11.Clinic.ID != 11 || c11.Date != avtMon || c11.DayCapacity != 200 || c11.DayBooked != 10 || c11.DayFree != 190 ||
		c11.Free != [BlocksPerDay]int{25, 25, 25, 25, 15, 25, 25, 25} {
		t.Errorf("clinic 11 result = %+v", c11)
	}
	c12 := res[0]
	if c12.Free[0] != 0 || c12.DayBooked != 600 || c12.DayFree != 525 {
		t.Errorf("centre result = %+v", c12)
	}
	if _, total := a.SearchTotal(SearchQuery{Date: avtMon, Limit: 1}); total != 5 {
		t.Errorf("SearchTotal total = %d", total)
	}
	if _, total := a.SearchTotal(SearchQuery{Date: avtMon, OnlyFree: true, Offset: 10}); total != 4 {
		t.Errorf("SearchTotal total past end = %d", total)
	}
}

// avtReference is a plain, slow Search for comparison.
func avtReference(a *Availability, q SearchQuery) []ClinicAvailability {
	var out []ClinicAvailability
	for i := range a.clinics {
		c := &a.clinics[i]
		if q.RegionCode != "" && c.RegionCode != q.RegionCode || q.DistrictCode != "" && c.DistrictCode != q.DistrictCode {
			continue
		}
		if q.Vaccine != "" && !c.Offers(q.Vaccine) {
			continue
		}
		r := ClinicAvailability{Clinic: c}
		r.Date = q.Date
		r.DayCapacity = c.DayCapacity(q.Date)
		for b := TimeBlock(0); b < BlocksPerDay; b++ {
			s := Slot{c.ID, q.Date, b}
			r.Free[b] = a.Free(s)
			r.DayFree += r.Free[b]
			r.DayBooked += a.Booked(s)
		}
		if q.OnlyFree && r.DayFree == 0 {
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(x, y ClinicAvailability) int {
		return cmp.Or(cmp.Compare(y.DayFree, x.DayFree), strings.Compare(x.Clinic.Name, y.Clinic.Name), cmp.Compare(x.Clinic.ID, y.Clinic.ID))
	})
	return out
}

// avtBooked returns an index over a generated data set with a pseudo-random
// pattern of bookings on the first days of the campaign.
func avtBooked(tb testing.TB, clinics []Clinic) *Availability {
	tb.Helper()
	a := NewAvailability(clinics)
	rng := genRNG{state: 42}
	var counts []SlotCount
	for _, c := range clinics {
		for d := range 6 {
			date := avtMon.AddDays(d)
			for b := TimeBlock(0); b < BlocksPerDay; b++ {
				cp := c.Capacity(b, date)
				if cp == 0 || rng.intn(3) == 0 {
					continue
				}
				counts = append(counts, SlotCount{Slot{c.ID, date, b}, rng.intn(cp + 1)})
			}
		}
	}
	a.Load(counts)
	return a
}

func TestAvailabilitySearchMatchesReference(t *testing.T) {
	a := avtBooked(t, GenerateClinics(5, 3000, 60))
	queries := []SearchQuery{
		{Date: avtMon, Limit: MaxSearchLimit},
		{RegionCode: "41", Date: avtMon, Limit: 50},
		{RegionCode: "41", Date: avtMon, Limit: 50, Offset: 300},
		{RegionCode: "11", Date: avtMon.AddDays(2), Vaccine: "pfizer", OnlyFree: true, Limit: 100},
		{RegionCode: "36", Date: avtSat, Limit: 100},
		{DistrictCode: "11680", Date: avtMon.AddDays(1), Limit: 100},
		{DistrictCode: "41110", Date: avtMon.AddDays(3), Vaccine: "astrazeneca", Limit: 100},
		{DistrictCode: "47940", Date: avtMon, Limit: 100},
		{RegionCode: "26", Date: avtMon.AddDays(30), Limit: 100}, // nothing booked that day
	}
	for _, q := range queries {
		ref := avtReference(a, q)
		got, total := a.SearchTotal(q)
		if total != len(ref) {
			t.Errorf("%+v: total %d, want %d", q, total, len(ref))
		}
		lo, hi := min(q.Offset, len(ref)), min(q.Offset+q.Limit, len(ref))
		want := ref[lo:hi]
		if len(want) == 0 {
			want = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%+v: got %d results, want %d; first diff:", q, len(got), len(want))
			for i := range min(len(got), len(want)) {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Errorf("  [%d] got %+v\n  want %+v", i, got[i], want[i])
					break
				}
			}
		}
	}
}

func TestAvailabilitySearchPaging(t *testing.T) {
	a := avtBooked(t, GenerateClinics(9, 2000, 40))
	for _, q := range []SearchQuery{
		{RegionCode: "41", Date: avtMon},
		{RegionCode: "11", Date: avtMon, OnlyFree: true, Vaccine: "astrazeneca"},
		{DistrictCode: "11710", Date: avtSat},
	} {
		ref := avtReference(a, q)
		for _, size := range []int{1, 7, 20, 100} {
			var all []ClinicAvailability
			for off := 0; ; off += size {
				q.Limit, q.Offset = size, off
				page, total := a.SearchTotal(q)
				if total != len(ref) {
					t.Fatalf("total %d, want %d", total, len(ref))
				}
				if len(page) == 0 {
					break
				}
				if len(page) > size {
					t.Fatalf("page of %d for limit %d", len(page), size)
				}
				all = append(all, page...)
			}
			if !reflect.DeepEqual(all, ref) {
				t.Errorf("%+v pages of %d: concatenation differs from the full list (%d vs %d)", q, size, len(all), len(ref))
			}
		}
	}
	// Default and maximum page sizes.
	if n := len(a.Search(SearchQuery{Date: avtMon})); n != DefaultSearchLimit {
		t.Errorf("default page %d", n)
	}
	if n := len(a.Search(SearchQuery{Date: avtMon, Limit: 5000})); n != MaxSearchLimit {
		t.Errorf("max page %d", n)
	}
}

func TestAvailabilityFreeDates(t *testing.T) {
	a := NewAvailability(avtClinics())
	a.Add(Slot{11, avtMon, 0}, 25)
	a.Add(Slot{11, avtMon.AddDays(2), 3}, 4)
	days := a.FreeDates(11, avtMon, avtMon.AddDays(13))
	if len(days) != 14 {
		t.Fatalf("%d days", len(days))
	}
	for i, d := range days {
		date := avtMon.AddDays(i)
		if d.Date != date {
			t.Errorf("day %d is %s, want %s", i, d.Date, date)
		}
		wantCap := 200
		if date.Weekday() == time.Sunday {
			wantCap = 0
		}
		wantBooked := map[int]int{0: 25, 2: 4}[i]
		if d.DayCapacity != wantCap || d.DayBooked != wantBooked || d.DayFree != max(wantCap-wantBooked, 0) {
			t.Errorf("%s: %+v", date, d)
		}
		sum := 0
		for _, f := range d.Free {
			sum += f
		}
		if sum != d.DayFree {
			t.Errorf("%s: blocks add to %d, DayFree %d", date, sum, d.DayFree)
		}
	}
	if days[0].Free[0] != 0 || days[2].Free[3] != 21 {
		t.Errorf("per-block free: %v %v", days[0].Free, days[2].Free)
	}
	if got := a.FreeDates(11, avtMon, avtMon); len(got) != 1 {
		t.Errorf("single day: %d", len(got))
	}
	if got := a.FreeDates(11, avtMon, avtMon.AddDays(-1)); got != nil {
		t.Errorf("reversed range: %v", got)
	}
	if got := a.FreeDates(99, avtMon, avtSat); got != nil {
		t.Errorf("unknown clinic: %v", got)
	}
	if got := a.FreeDates(11, Date{}, avtSat); got != nil {
		t.Errorf("bad date: %v", got)
	}
	if got := a.FreeDates(11, avtMon, avtMon.AddDays(5000)); len(got) != MaxFreeDatesSpan {
		t.Errorf("long range: %d days", len(got))
	}
	// A range crossing a year end.
	got := a.FreeDates(11, Date{2021, time.December, 30}, Date{2022, time.January, 2})
	if len(got) != 4 || got[2].Date != (Date{2022, time.January, 1}) {
		t.Errorf("year end: %v", got)
	}
}

func TestAvailabilityTotals(t *testing.T) {
	clinics := GenerateClinics(3, 1500, 30)
	a := avtBooked(t, clinics)
	for _, date := range []Date{avtMon, avtSat, avtSun, avtMon.AddDays(40)} {
		var wantBooked, wantFree, wantCap int
		perRegion := map[string][3]int{}
		for _, c := range clinics {
			b, f := a.DayStats(c.ID, date)
			wantBooked += b
			wantFree += f
			wantCap += c.DayCapacity(date)
			p := perRegion[c.RegionCode]
			perRegion[c.RegionCode] = [3]int{p[0] + b, p[1] + f, p[2] + c.DayCapacity(date)}
		}
		b, f := a.Totals(date)
		if b != wantBooked || f != wantFree {
			t.Errorf("%s: Totals = %d, %d, want %d, %d", date, b, f, wantBooked, wantFree)
		}
		// avtBooked never overbooks, so booked + free = capacity.
		if b+f != wantCap {
			t.Errorf("%s: booked %d + free %d != capacity %d", date, b, f, wantCap)
		}
		rt := a.RegionTotals(date)
		if len(rt) != 17 || rt[0].RegionCode != "11" || rt[16].RegionCode != "50" {
			t.Fatalf("RegionTotals order: %v", rt)
		}
		for _, r := range rt {
			if p := perRegion[r.RegionCode]; r.Booked != p[0] || r.Free != p[1] || r.Capacity != p[2] {
				t.Errorf("%s region %s: %+v, want %v", date, r.RegionCode, r, p)
			}
		}
	}
	if b, f := a.Totals(Date{2021, time.February, 30}); b != 0 || f != 0 {
		t.Errorf("invalid date totals %d %d", b, f)
	}
}

func TestAvailabilityConcurrentAdd(t *testing.T) {
	clinics := GenerateClinics(11, 500, 20)
	a := NewAvailability(clinics)
	const workers = 16
	const perWorker = 4000
	// Every worker books and cancels over the same few slots (same words,
	// neighbouring lanes, several dates created concurrently), so CAS
	// retries and day-table creation races both happen.
	slot := func(w, i int) Slot {
		c := clinics[(i*7)%5]
		return Slot{c.ID, avtMon.AddDays(i % 4), TimeBlock(i % BlocksPerDay)}
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				a.Add(slot(w, i), 1)
				if i%4 == 3 {
					a.Add(slot(w, i-1), -1)
				}
			}
		})
	}
	// Readers run alongside.
	stop := make(chan struct{})
	var rg sync.WaitGroup
	for range 4 {
		rg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, r := range a.Search(SearchQuery{DistrictCode: clinics[0].DistrictCode, Date: avtMon}) {
					if r.DayFree < 0 || r.DayFree > r.DayCapacity {
						t.Errorf("bad free %+v", r)
					}
				}
				a.FreeDates(clinics[1].ID, avtMon, avtMon.AddDays(5))
				a.Totals(avtMon)
			}
		})
	}
	wg.Wait()
	close(stop)
	rg.Wait()

	want := map[Slot]int{}
	for w := range workers {
		for i := range perWorker {
			want[slot(w, i)]++
			if i%4 == 3 {
				want[slot(w, i-1)]--
			}
		}
	}
	total := 0
	for s, n := range want {
		if got := a.Booked(s); got != n {
			t.Errorf("%+v: booked %d, want %d", s, got, n)
		}
		total += n
	}
	sum := 0
	for d := range 4 {
		b, _ := a.Totals(avtMon.AddDays(d))
		sum += b
	}
	if sum != total || total != workers*perWorker*3/4 {
		t.Errorf("total booked %d, want %d (= %d)", sum, total, workers*perWorker*3/4)
	}
}

func TestAvailabilitySparseIDs(t *testing.T) {
	cs := avtClinics()
	for i := range cs {
		cs[i].ID = cs[i].ID*1_000_000_007 - 5
	}
	a := NewAvailability(cs)
	if a.dense != nil {
		t.Fatal("sparse IDs indexed densely")
	}
	s := Slot{cs[1].ID, avtMon, 0}
	a.Add(s, 3)
	if a.Booked(s) != 3 || a.Free(s) != 22 {
		t.Errorf("booked %d free %d", a.Booked(s), a.Free(s))
	}
	if c, ok := a.Clinic(cs[4].ID); !ok || c.Name != "부산의원" {
		t.Errorf("Clinic = %v %v", c, ok)
	}
	for _, id := range []int64{0, 1, 11, cs[1].ID + 1, -1 << 63} {
		if _, ok := a.Clinic(id); ok {
			t.Errorf("Clinic(%d) found", id)
		}
	}
	// Dense lookups reject IDs around the range.
	d := NewAvailability(avtClinics())
	if d.dense == nil {
		t.Fatal("dense IDs not indexed densely")
	}
	for _, id := range []int64{0, 9, 13, 31, 1 << 40, -1 << 63} {
		if _, ok := d.Clinic(id); ok {
			t.Errorf("dense Clinic(%d) found", id)
		}
	}
}

func TestAvailabilityCopiesClinics(t *testing.T) {
	cs := avtClinics()
	a := NewAvailability(cs)
	cs[0].Name = "changed"
	cs[0].BlockCapacity = 999
	if c, _ := a.Clinic(10); c.Name != "나래내과의원" || a.Capacity(Slot{10, avtMon, 0}) != 13 {
		t.Error("NewAvailability did not copy the clinics")
	}
	defer func() {
		if recover() == nil {
			t.Error("duplicate IDs did not panic")
		}
	}()
	NewAvailability(append(avtClinics(), Clinic{ID: 10}))
}

// Benchmarks run on the default data set with some bookings loaded.

var (
	avtBenchOnce sync.Once
	avtBench     *Availability
)

func avtBenchIndex(b *testing.B) *Availability {
	avtBenchOnce.Do(func() { avtBench = avtBooked(b, DefaultClinics()) })
	return avtBench
}

func BenchmarkSearch(b *testing.B) {
	a := avtBenchIndex(b)
	day := avtMon.AddDays(1)
	for _, bm := range []struct {
		name string
		q    SearchQuery
	}{
		{"District", SearchQuery{RegionCode: "11", DistrictCode: "11680", Date: day, OnlyFree: true}},
		{"Region", SearchQuery{RegionCode: "41", Date: day, OnlyFree: true}},
		{"RegionVaccinePage", SearchQuery{RegionCode: "41", Date: day, Vaccine: "pfizer", OnlyFree: true, Limit: 100, Offset: 200}},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				a.Search(bm.q)
			}
		})
	}
}

func BenchmarkSearchDistrictParallel(b *testing.B) {
	a := avtBenchIndex(b)
	q := SearchQuery{DistrictCode: "11680", Date: avtMon.AddDays(1), OnlyFree: true}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			a.Search(q)
		}
	})
}

func BenchmarkFreeDates(b *testing.B) {
	a := avtBenchIndex(b)
	b.ReportAllocs()
	for b.Loop() {
		a.FreeDates(1, avtMon, avtMon.AddDays(41))
	}
}

// BenchmarkAdd measures one Add (half of them +1, half -1) from parallel
// goroutines spread over clinics, dates and blocks.
func BenchmarkAdd(b *testing.B) {
	a := avtBenchIndex(b)
	clinics := a.Clinics()
	slots := make([]Slot, 1<<16)
	for i := range slots {
		slots[i] = Slot{clinics[(i*7919)%len(clinics)].ID, avtMon.AddDays(i % 30), TimeBlock(i % BlocksPerDay)}
		a.Add(slots[i], 1) // create the date tables up front
		a.Add(slots[i], -1)
	}
	var seq sync.Mutex
	next := 0
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		seq.Lock()
		i := next * 9973
		next++
		seq.Unlock()
		delta := 1
		for pb.Next() {
			i++
			a.Add(slots[i&(len(slots)-1)], delta)
			delta = -delta
		}
	})
}

func TestAvailabilityDayFreeFastPath(t *testing.T) {
	slow := func(w *[availWords]uint64, blockCap int) int {
		free := 0
		for b := range BlocksPerDay {
			free += max(blockCap-availBooked(w, b), 0)
		}
		return free
	}
	rng := genRNG{state: 7}
	lanes := []int{0, 1, 12, 13, 14, 24, 25, 26, 74, 75, 76, 16383, 32767, -1, -2, -32768}
	for i := range 200000 {
		capb := []int{0, 1, 13, 25, 38, 75, 90, 1<<14 - 1, 1 << 14, 30000}[i%10]
		var w [availWords]uint64
		for b := range BlocksPerDay {
			var v int
			if rng.percent(50) {
				v = rng.intn(capb + 2)
			} else {
				v = lanes[rng.intn(len(lanes))]
			}
			w[b/availLanes] |= uint64(uint16(int16(v))) << (uint(b%availLanes) * 16)
		}
		if got, want := availDayFree(&w, capb), slow(&w, capb); got != want {
			t.Fatalf("cap %d words %x: fast %d, slow %d", capb, w, got, want)
		}
	}
}
