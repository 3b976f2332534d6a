package booking

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Availability is the in-memory view of booked and free capacity per slot,
// kept in step with the store so that browsing (clinic lists, dates, blocks)
// never touches the database — the 2021 bottleneck. It is safe for
// concurrent use: reads are lock-free and Add is a compare-and-swap.
//
// Layout: clinic data and the region/district indexes (sorted by name) are
// built once and never change. Booked counts live in one table per calendar
// date, allocated on first use: BlocksPerDay signed 16-bit counters per
// clinic, packed four to an atomic uint64 (16 bytes per clinic-day, about
// 210 KB per date for the default 13,264 clinics, 40 MB for a six-month
// campaign where every date is booked). The tables are found through an
// immutable map swapped on the rare creation of a new date.
//
// Counts are signed so that a cancellation applied before the booking it
// undoes (two goroutines racing after their commits) still nets to the
// right value; readers clamp: Booked is never negative and Free is never
// negative nor above capacity.
type Availability struct {
	clinics    []Clinic
	byID       map[int64]int32
	denseBase  int64   // when IDs are dense (as generated), dense[id-denseBase] is the index, -1 if none
	dense      []int32 // nil when IDs are sparse
	blockCap   []int32
	open       []WeekdaySet
	vax        []uint32     // bit set of offered vaccines, see vaxBit
	region     []int32      // index into regions
	all        []availEntry // every clinic, sorted by name, then ID
	byRegion   map[string][]availEntry
	byDistrict map[string][]availEntry
	distRegion map[string]string
	vaxBit     map[string]uint32
	regions    []string // region codes, in Regions() order, then others sorted
	maxDayCap  int

	mu   sync.Mutex // serialises creation of date tables and Load
	days atomic.Pointer[map[int32]*availDay]

	scratch sync.Pool // *availScratch
}

const (
	availLanes = 4 // 16-bit counters per uint64
	availWords = (BlocksPerDay + availLanes - 1) / availLanes

	// DefaultSearchLimit is the page size when SearchQuery.Limit is 0.
	DefaultSearchLimit = 20
	// MaxSearchLimit caps SearchQuery.Limit.
	MaxSearchLimit = 100
	// MaxFreeDatesSpan caps the number of days FreeDates returns.
	MaxFreeDatesSpan = 366
)

type availDay struct{ w []atomic.Uint64 } // availWords per clinic

// availEntry is a clinic in a search list, with what the first pass of a
// search needs, so a pass reads the list in order and touches only the
// day's counters at random.
type availEntry struct {
	ci       int32 // index into clinics
	blockCap int32
	vax      uint32
	open     WeekdaySet
}

type availScratch struct {
	words  [][availWords]uint64
	totals []int32
	hist   []int32
	order  []int32
}

// NewAvailability indexes clinics (copied; the Vaccines slices are shared)
// with nothing booked. Clinic IDs must be unique: a duplicate is a bug in
// the data and panics.
func NewAvailability(clinics []Clinic) *Availability {
	a := &Availability{
		clinics:    slices.Clone(clinics),
		byID:       make(map[int64]int32, len(clinics)),
		blockCap:   make([]int32, len(clinics)),
		open:       make([]WeekdaySet, len(clinics)),
		vax:        make([]uint32, len(clinics)),
		region:     make([]int32, len(clinics)),
		byRegion:   map[string][]availEntry{},
		byDistrict: map[string][]availEntry{},
		distRegion: map[string]string{},
		vaxBit:     map[string]uint32{},
	}
	regionPos := map[string]int32{}
	for _, r := range regionData {
		if _, ok := regionPos[r.Code]; !ok {
			regionPos[r.Code] = int32(len(a.regions))
			a.regions = append(a.regions, r.Code)
		}
	}
	var extra []string
	for _, c := range a.clinics {
		if _, ok := regionPos[c.RegionCode]; !ok && !slices.Contains(extra, c.RegionCode) {
			extra = append(extra, c.RegionCode)
		}
	}
	slices.Sort(extra)
	for _, code := range extra {
		regionPos[code] = int32(len(a.regions))
		a.regions = append(a.regions, code)
	}

	for i := range a.clinics {
		c := &a.clinics[i]
		if _, dup := a.byID[c.ID]; dup {
			panic(fmt.Sprintf("booking: NewAvailability: duplicate clinic ID %d", c.ID))
		}
		a.byID[c.ID] = int32(i)
		a.blockCap[i] = int32(min(max(c.BlockCapacity, 0), math.MaxInt32/BlocksPerDay))
		a.open[i] = c.OpenDays
		a.region[i] = regionPos[c.RegionCode]
		a.maxDayCap = max(a.maxDayCap, int(a.blockCap[i])*BlocksPerDay)
		for _, v := range c.Vaccines {
			bit, ok := a.vaxBit[v]
			if !ok && len(a.vaxBit) < 32 {
				bit = 1 << len(a.vaxBit)
				a.vaxBit[v] = bit
			}
			a.vax[i] |= bit
		}
	}
	order := make([]int32, len(a.clinics))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int {
		cx, cy := &a.clinics[x], &a.clinics[y]
		return cmp.Or(strings.Compare(cx.Name, cy.Name), cmp.Compare(cx.ID, cy.ID))
	})
	a.all = make([]availEntry, 0, len(order))
	for _, i := range order { // keeps name order within each list
		c := &a.clinics[i]
		e := availEntry{ci: i, blockCap: a.blockCap[i], vax: a.vax[i], open: a.open[i]}
		a.all = append(a.all, e)
		a.byRegion[c.RegionCode] = append(a.byRegion[c.RegionCode], e)
		a.byDistrict[c.DistrictCode] = append(a.byDistrict[c.DistrictCode], e)
		if c.DistrictCode != "" {
			a.distRegion[c.DistrictCode] = c.RegionCode
		}
	}
	if len(a.clinics) > 0 {
		lo, hi := a.clinics[0].ID, a.clinics[0].ID
		for i := range a.clinics {
			lo, hi = min(lo, a.clinics[i].ID), max(hi, a.clinics[i].ID)
		}
		if span := uint64(hi - lo); span < uint64(4*len(a.clinics)+1024) {
			a.denseBase = lo
			a.dense = make([]int32, span+1)
			for i := range a.dense {
				a.dense[i] = -1
			}
			for i := range a.clinics {
				a.dense[a.clinics[i].ID-lo] = int32(i)
			}
		}
	}
	empty := map[int32]*availDay{}
	a.days.Store(&empty)
	return a
}

// Clinic returns the clinic with an ID. The result points into the index and
// must not be modified.
func (a *Availability) Clinic(id int64) (*Clinic, bool) {
	i, ok := a.index(id)
	if !ok {
		return nil, false
	}
	return &a.clinics[i], true
}

// Clinics returns the indexed clinics, in the order given to NewAvailability.
// The slice is shared and must not be modified.
func (a *Availability) Clinics() []Clinic { return a.clinics }

// day returns the table for a day number, creating it if asked.
func (a *Availability) day(dn int32, create bool) *availDay {
	if t := (*a.days.Load())[dn]; t != nil || !create {
		return t
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	old := *a.days.Load()
	if t := old[dn]; t != nil {
		return t
	}
	m := make(map[int32]*availDay, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	t := a.newDay()
	m[dn] = t
	a.days.Store(&m)
	return t
}

func (a *Availability) newDay() *availDay {
	return &availDay{w: make([]atomic.Uint64, len(a.clinics)*availWords)}
}

// availAddLane adds delta to the 16-bit lane of w holding block b,
// saturating at the int16 range; the other lanes are untouched.
func availAddLane(w *atomic.Uint64, b TimeBlock, delta int) {
	shift := uint(b%availLanes) * 16
	for {
		old := w.Load()
		v := min(max(int(int16(old>>shift))+delta, math.MinInt16), math.MaxInt16)
		nw := old&^(0xFFFF<<shift) | uint64(uint16(int16(v)))<<shift
		if w.CompareAndSwap(old, nw) {
			return
		}
	}
}

// index returns the position of a clinic in a.clinics.
func (a *Availability) index(id int64) (int32, bool) {
	if a.dense != nil {
		if k := uint64(id - a.denseBase); k < uint64(len(a.dense)) {
			i := a.dense[k]
			return i, i >= 0
		}
		return 0, false
	}
	i, ok := a.byID[id]
	return i, ok
}

// resolve maps a slot to its clinic index and day number; ok is false for an
// unknown clinic, a block outside the day or a date that does not exist.
func (a *Availability) resolve(s Slot) (ci int32, dn int32, ok bool) {
	ci, ok = a.index(s.ClinicID)
	if !ok || s.Block < 0 || s.Block >= BlocksPerDay {
		return 0, 0, false
	}
	dn, ok = availDayNumber(s.Date)
	return ci, dn, ok
}

// Load replaces all counts with counts read from the store (SlotCount rows;
// duplicate rows for one slot add up; rows for unknown clinics or invalid
// slots are skipped). It is meant for warming the index at start, before
// Add is called: an Add running concurrently with Load may be lost.
func (a *Availability) Load(counts []SlotCount) {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := map[int32]*availDay{}
	for _, c := range counts {
		ci, dn, ok := a.resolve(c.Slot)
		if !ok || c.Booked == 0 {
			continue
		}
		t := m[dn]
		if t == nil {
			t = a.newDay()
			m[dn] = t
		}
		availAddLane(&t.w[int(ci)*availWords+int(c.Block)/availLanes], c.Block, c.Booked)
	}
	a.days.Store(&m)
}

// Add changes the booked count of a slot by delta: +1 after a booking
// commits, -1 after a cancellation (and both for a change). Slots of unknown
// clinics, blocks outside the day and dates that do not exist are ignored.
// Counts saturate at ±32767 per slot.
func (a *Availability) Add(s Slot, delta int) {
	if delta == 0 {
		return
	}
	ci, dn, ok := a.resolve(s)
	if !ok {
		return
	}
	t := a.day(dn, true)
	availAddLane(&t.w[int(ci)*availWords+int(s.Block)/availLanes], s.Block, delta)
}

// words returns a consistent-per-word snapshot of a clinic's counters on a
// day (all zero if nothing was ever booked that day).
func (t *availDay) words(ci int32) (w [availWords]uint64) {
	if t == nil {
		return w
	}
	base := int(ci) * availWords
	for j := range w {
		w[j] = t.w[base+j].Load()
	}
	return w
}

func availBooked(w *[availWords]uint64, b int) int {
	return max(int(int16(w[b/availLanes]>>(uint(b%availLanes)*16))), 0)
}

// fill decodes counters into per-block booked/free figures.
func (d *DayAvailability) fill(w *[availWords]uint64, blockCap int) {
	d.DayBooked, d.DayFree, d.DayCapacity = 0, 0, blockCap*BlocksPerDay
	for b := range BlocksPerDay {
		bk := availBooked(w, b)
		f := max(blockCap-bk, 0)
		d.Free[b] = f
		d.DayBooked += bk
		d.DayFree += f
	}
}

const (
	availOnes  = 0x0001_0001_0001_0001 // 1 in every lane
	availSigns = 0x8000_8000_8000_8000 // the sign bit of every lane
)

// availDayFree returns the free doses of a day: the sum over blocks of
// max(blockCap - max(booked, 0), 0).
func availDayFree(w *[availWords]uint64, blockCap int) int {
	if blockCap <= 0 {
		return 0
	}
	// Fast path (SWAR): when every lane holds 0 <= booked <= blockCap, free
	// is the day's capacity minus the sum of the lanes. Adding
	// 0x7FFF-blockCap to a non-negative lane sets its sign bit exactly when
	// booked > blockCap, and cannot carry into the next lane. Multiplying by
	// availOnes sums the four lanes into the top one (no overflow while
	// 4*blockCap < 1<<16). Unused lanes are always zero.
	if blockCap < 1<<14 {
		bias := uint64(0x7FFF-blockCap) * availOnes
		sum := 0
		ok := true
		for _, x := range w {
			if (x|(x+bias))&availSigns != 0 {
				ok = false
				break
			}
			sum += int((x * availOnes) >> 48)
		}
		if ok {
			return blockCap*BlocksPerDay - sum
		}
	}
	free := 0
	for b := range BlocksPerDay {
		free += max(blockCap-availBooked(w, b), 0)
	}
	return free
}

// capOn is the block capacity of clinic ci on a weekday-resolved day.
func (a *Availability) capOn(ci int32, dn int32) int {
	if !a.open[ci].Has(availWeekday(dn)) {
		return 0
	}
	return int(a.blockCap[ci])
}

// Capacity returns the capacity of a slot (0 for unknown clinics, closed
// days, blocks outside the day). It fits BookRequest.SlotCapacity.
func (a *Availability) Capacity(s Slot) int {
	ci, dn, ok := a.resolve(s)
	if !ok {
		return 0
	}
	return a.capOn(ci, dn)
}

// Booked returns the number of bookings held at a slot (never negative).
func (a *Availability) Booked(s Slot) int {
	ci, dn, ok := a.resolve(s)
	if !ok {
		return 0
	}
	w := a.day(dn, false).words(ci)
	return availBooked(&w, int(s.Block))
}

// Free returns capacity minus bookings at a slot, never negative.
func (a *Availability) Free(s Slot) int {
	ci, dn, ok := a.resolve(s)
	if !ok {
		return 0
	}
	w := a.day(dn, false).words(ci)
	return max(a.capOn(ci, dn)-availBooked(&w, int(s.Block)), 0)
}

// DayAvailability is one clinic's capacity on one date.
type DayAvailability struct {
	Date        Date
	Free        [BlocksPerDay]int // free doses per block
	DayFree     int               // sum of Free
	DayBooked   int               // bookings held that day
	DayCapacity int               // 0 when the clinic is closed
}

// ClinicAvailability is a search result: a clinic and its day.
type ClinicAvailability struct {
	Clinic *Clinic // points into the index; do not modify
	DayAvailability
}

// DayStats returns a clinic's booked and free doses on a date.
func (a *Availability) DayStats(clinicID int64, date Date) (booked, free int) {
	ci, ok := a.index(clinicID)
	if !ok {
		return 0, 0
	}
	dn, ok := availDayNumber(date)
	if !ok {
		return 0, 0
	}
	w := a.day(dn, false).words(ci)
	var d DayAvailability
	d.fill(&w, a.capOn(ci, dn))
	return d.DayBooked, d.DayFree
}

// FreeDates returns a clinic's availability for every date from `from` to
// `to` inclusive (closed days included, with zero capacity), at most
// MaxFreeDatesSpan days. Nil for an unknown clinic or an empty range.
func (a *Availability) FreeDates(clinicID int64, from, to Date) []DayAvailability {
	ci, ok := a.index(clinicID)
	if !ok {
		return nil
	}
	d0, ok0 := availDayNumber(from)
	d1, ok1 := availDayNumber(to)
	if !ok0 || !ok1 || d1 < d0 {
		return nil
	}
	d1 = min(d1, d0+MaxFreeDatesSpan-1)
	days := *a.days.Load()
	out := make([]DayAvailability, 0, d1-d0+1)
	for dn := d0; dn <= d1; dn++ {
		w := days[dn].words(ci)
		d := DayAvailability{Date: availDate(dn)}
		d.fill(&w, a.capOn(ci, dn))
		out = append(out, d)
	}
	return out
}

// SearchQuery selects clinics for one date.
type SearchQuery struct {
	RegionCode   string // optional, e.g. "41"
	DistrictCode string // optional, e.g. "41110"; must lie in RegionCode if both are set
	Date         Date   // required
	Vaccine      string // optional vaccine id; unknown ids match nothing
	OnlyFree     bool   // leave out clinics with no free dose that day
	// Dong keeps only the clinics of this neighbourhood of DistrictCode
	// (its Korean name, see Dongs); an unknown one matches nothing.
	Dong string
	// Near orders the clinics by their distance from the centre of this
	// neighbourhood of DistrictCode, nearest first, instead of by free
	// doses; an unknown one matches nothing.
	Near   string
	Limit  int // page size: 0 means DefaultSearchLimit, capped at MaxSearchLimit
	Offset int
}

// Search returns one page of the clinics matching q, most free doses that
// day first (or nearest first, with Near), then by name (then ID).
func (a *Availability) Search(q SearchQuery) []ClinicAvailability {
	res, _ := a.SearchTotal(q)
	return res
}

// SearchTotal is Search that also returns the number of matching clinics
// before paging.
func (a *Availability) SearchTotal(q SearchQuery) ([]ClinicAvailability, int) {
	var cands []availEntry
	switch {
	case q.DistrictCode != "":
		if q.RegionCode != "" && a.distRegion[q.DistrictCode] != q.RegionCode {
			return nil, 0
		}
		cands = a.byDistrict[q.DistrictCode]
	case q.RegionCode != "":
		cands = a.byRegion[q.RegionCode]
	default:
		cands = a.all
	}
	dn, ok := availDayNumber(q.Date)
	if !ok || len(cands) == 0 {
		return nil, 0
	}
	var near *Dong
	if q.Dong != "" || q.Near != "" {
		if q.DistrictCode == "" {
			return nil, 0
		}
		if q.Dong != "" {
			if _, ok := DongOf(q.DistrictCode, q.Dong); !ok {
				return nil, 0
			}
		}
		if q.Near != "" {
			d, ok := DongOf(q.DistrictCode, q.Near)
			if !ok {
				return nil, 0
			}
			near = &d
		}
	}
	vbit := ^uint32(0)
	if q.Vaccine != "" {
		if vbit, ok = a.vaxBit[q.Vaccine]; !ok {
			return nil, 0
		}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultSearchLimit
	}
	limit = min(limit, MaxSearchLimit)
	offset := max(q.Offset, 0)
	wdBit := WeekdaySet(1) << availWeekday(dn)
	day := a.day(dn, false)

	sc := a.getScratch(len(cands))
	defer a.scratch.Put(sc)
	useHist := a.maxDayCap <= 1<<16 && near == nil
	n, maxTot := 0, 0
	// Pass 1: snapshot the counters and the day's free total of each
	// matching clinic, in name order.
	for k := range cands {
		e := &cands[k]
		sc.totals[k] = -1
		if e.vax&vbit == 0 || q.Dong != "" && a.clinics[e.ci].Dong != q.Dong {
			continue
		}
		capb := 0
		if e.open&wdBit != 0 {
			capb = int(e.blockCap)
		}
		w := &sc.words[k]
		*w = day.words(e.ci)
		tot := availDayFree(w, capb)
		if q.OnlyFree && tot == 0 {
			continue
		}
		sc.totals[k] = int32(tot)
		n++
		if useHist {
			sc.hist[tot]++
			maxTot = max(maxTot, tot)
		} else {
			sc.order = append(sc.order, int32(k))
		}
	}
	if offset >= n {
		if useHist {
			clear(sc.hist[:maxTot+1])
		}
		return nil, n
	}
	end := min(offset+limit, n)
	res := make([]ClinicAvailability, end-offset)
	put := func(pos int, k int) {
		e := &cands[k]
		r := &res[pos-offset]
		r.Clinic = &a.clinics[e.ci]
		r.Date = q.Date
		capb := 0
		if e.open&wdBit != 0 {
			capb = int(e.blockCap)
		}
		r.fill(&sc.words[k], capb)
	}
	if useHist {
		// Counting sort, stable, so equal totals stay in name order: hist[t]
		// becomes the position of the first clinic with t free.
		hist := sc.hist[:maxTot+1]
		pos := int32(0)
		for t := len(hist) - 1; t >= 0; t-- {
			c := hist[t]
			hist[t] = pos
			pos += c
		}
		for k, t := range sc.totals {
			if t < 0 {
				continue
			}
			p := int(hist[t])
			hist[t]++
			if p >= offset && p < end {
				put(p, k)
			}
		}
		clear(hist)
	} else if near != nil {
		dist := func(k int32) int {
			c := &a.clinics[cands[k].ci]
			return Distance(c.X, c.Y, near.X, near.Y)
		}
		slices.SortStableFunc(sc.order, func(x, y int32) int { return cmp.Compare(dist(x), dist(y)) })
		for p := offset; p < end; p++ {
			put(p, int(sc.order[p]))
		}
	} else {
		slices.SortStableFunc(sc.order, func(x, y int32) int { return cmp.Compare(sc.totals[y], sc.totals[x]) })
		for p := offset; p < end; p++ {
			put(p, int(sc.order[p]))
		}
	}
	return res, n
}

func (a *Availability) getScratch(n int) *availScratch {
	sc, _ := a.scratch.Get().(*availScratch)
	if sc == nil {
		sc = &availScratch{}
	}
	if cap(sc.words) < n {
		sc.words = make([][availWords]uint64, n)
		sc.totals = make([]int32, n)
	}
	sc.words, sc.totals = sc.words[:n], sc.totals[:n]
	if a.maxDayCap <= 1<<16 && len(sc.hist) != a.maxDayCap+1 {
		sc.hist = make([]int32, a.maxDayCap+1)
	}
	sc.order = sc.order[:0]
	return sc
}

// Totals returns booked and free doses over all clinics on a date.
func (a *Availability) Totals(date Date) (booked, free int) {
	for _, r := range a.RegionTotals(date) {
		booked += r.Booked
		free += r.Free
	}
	return booked, free
}

// RegionTotal is one region's figures for a date.
type RegionTotal struct {
	RegionCode string
	Booked     int
	Free       int
	Capacity   int
}

// RegionTotals returns booked, free and capacity per region on a date, in
// Regions() order (regions unknown to Regions() last, by code); regions with
// no clinics are included with zeros.
func (a *Availability) RegionTotals(date Date) []RegionTotal {
	out := make([]RegionTotal, len(a.regions))
	for i, code := range a.regions {
		out[i].RegionCode = code
	}
	dn, ok := availDayNumber(date)
	if !ok {
		return out
	}
	wd := availWeekday(dn)
	day := a.day(dn, false)
	for ci := range a.clinics {
		r := &out[a.region[ci]]
		capb := 0
		if a.open[ci].Has(wd) {
			capb = int(a.blockCap[ci])
		}
		var d DayAvailability
		w := day.words(int32(ci))
		d.fill(&w, capb)
		r.Booked += d.DayBooked
		r.Free += d.DayFree
		r.Capacity += d.DayCapacity
	}
	return out
}
