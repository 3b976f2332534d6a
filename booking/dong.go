package booking

import (
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Dong is a neighbourhood (동) of a district, where people look for a
// clinic near them. Like the clinics, the neighbourhoods are synthetic but
// plausible (common dong names, centres spread over the district) and the
// same on every run: they depend on the district alone.
type Dong struct {
	Name   string // e.g. "신흥2동"
	NameEN string // e.g. "Sinheung 2-dong"
	// X and Y place the neighbourhood's centre in metres east and north of
	// the district's centre.
	X, Y int
}

// genDongStems are common dong names, without 동.
var genDongStems = []genWord{
	{"중앙", "Jungang"}, {"신흥", "Sinheung"}, {"문화", "Munhwa"}, {"대화", "Daehwa"}, {"송정", "Songjeong"},
	{"신정", "Sinjeong"}, {"남산", "Namsan"}, {"월평", "Wolpyeong"}, {"효자", "Hyoja"}, {"도화", "Dohwa"},
	{"용현", "Yonghyeon"}, {"석촌", "Seokchon"}, {"장안", "Jangan"}, {"명륜", "Myeongnyun"}, {"청운", "Cheongun"},
	{"화정", "Hwajeong"}, {"봉명", "Bongmyeong"}, {"금호", "Geumho"}, {"옥수", "Oksu"}, {"성내", "Seongnae"},
	{"반송", "Bansong"}, {"대명", "Daemyeong"}, {"산곡", "Sangok"}, {"연산", "Yeonsan"}, {"수정", "Sujeong"},
	{"평화", "Pyeonghwa"}, {"송림", "Songnim"}, {"학익", "Hagik"}, {"만수", "Mansu"}, {"구월", "Guwol"},
	{"서림", "Seorim"}, {"신월", "Sinwol"}, {"대림", "Daerim"}, {"상도", "Sangdo"}, {"봉천", "Bongcheon"},
	{"삼양", "Samyang"}, {"우산", "Usan"}, {"덕천", "Deokcheon"}, {"용호", "Yongho"}, {"태평", "Taepyeong"},
}

var dongData = sync.OnceValue(func() map[string][]Dong {
	out := map[string][]Dong{}
	for _, r := range regionData {
		for i := range r.Districts {
			out[r.Districts[i].Code] = genDongs(&r.Districts[i])
		}
	}
	return out
})

// Dongs returns the neighbourhoods of a district in name order (nil for an
// unknown district). The slice is shared: do not modify it.
func Dongs(districtCode string) []Dong { return dongData()[districtCode] }

// DongOf returns the neighbourhood of a district by its Korean name.
func DongOf(districtCode, name string) (Dong, bool) {
	for _, d := range Dongs(districtCode) {
		if d.Name == name {
			return d, true
		}
	}
	return Dong{}, false
}

// dongRadius is how far from its centre a district's neighbourhoods lie:
// a city's autonomous district (구) is small, a county (군) large.
func dongRadius(d *District) float64 {
	switch {
	case strings.HasSuffix(d.Name, "구"):
		return 3500
	case strings.HasSuffix(d.Name, "군"):
		return 14000
	}
	return 7000
}

func genDongs(d *District) []Dong {
	h := fnv.New64a()
	h.Write([]byte(d.Code))
	rng := genRNG{state: h.Sum64()}
	n := min(max(d.Population/20_000, 3), 24)
	stems := slices.Clone(genDongStems)
	for i := len(stems) - 1; i > 0; i-- {
		j := rng.intn(i + 1)
		stems[i], stems[j] = stems[j], stems[i]
	}
	radius := dongRadius(d)
	out := make([]Dong, 0, n)
	for i := 0; len(out) < n; i++ {
		s := stems[i%len(stems)]
		dg := Dong{Name: s.ko + "동", NameEN: s.en + "-dong"}
		// A few neighbourhoods are split and numbered ("신흥2동"); past
		// the list's end every name is.
		if k := i / len(stems); k > 0 || rng.percent(25) {
			no := strconv.Itoa(k + 1 + rng.intn(2))
			dg = Dong{Name: s.ko + no + "동", NameEN: s.en + " " + no + "-dong"}
		}
		if slices.ContainsFunc(out, func(o Dong) bool { return o.Name == dg.Name }) {
			continue
		}
		dg.X, dg.Y = discPoint(&rng, radius)
		out = append(out, dg)
	}
	slices.SortFunc(out, func(a, b Dong) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// discPoint is a point spread evenly over a disc of the radius (metres).
func discPoint(rng *genRNG, radius float64) (int, int) {
	r := radius * math.Sqrt(float64(rng.intn(1_000_000))/1e6)
	a := 2 * math.Pi * float64(rng.intn(1_000_000)) / 1e6
	return int(math.Round(r * math.Cos(a))), int(math.Round(r * math.Sin(a)))
}

// placeClinics puts each clinic in a neighbourhood of its district, a
// short walk from its centre. It draws from its own generator, so the
// clinics' other data do not change with it.
func placeClinics(seed int64, clinics []Clinic) {
	rng := genRNG{state: uint64(seed)*0xD1B54A32D192ED03 + 0x8CB92BA72F3D8DD7}
	for i := range clinics {
		c := &clinics[i]
		dongs := Dongs(c.DistrictCode)
		if len(dongs) == 0 {
			continue
		}
		dg := dongs[rng.intn(len(dongs))]
		d, _, _ := DistrictByCode(c.DistrictCode) // Dongs knows it
		dx, dy := discPoint(&rng, dongRadius(d)/6)
		c.Dong, c.DongEN, c.X, c.Y = dg.Name, dg.NameEN, dg.X+dx, dg.Y+dy
	}
}

// Distance is the straight-line distance in metres between two points of
// one district (Dong or Clinic coordinates).
func Distance(x1, y1, x2, y2 int) int {
	return int(math.Round(math.Hypot(float64(x1-x2), float64(y1-y2))))
}
