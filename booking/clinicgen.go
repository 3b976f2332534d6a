package booking

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Default data set sizes, from the 2021 campaign (see DOMAIN.md).
const (
	DefaultClinicSeed  = 2021
	DefaultClinicCount = 13000 // contracted clinics (위탁의료기관)
	DefaultCentreCount = 264   // vaccination centres (예방접종센터)
)

var (
	defaultClinicsOnce sync.Once
	defaultClinics     []Clinic
)

// DefaultClinics returns the default generated data set,
// GenerateClinics(2021, 13000, 264), computed once. The returned slice is a
// fresh copy; its elements' Vaccines slices are shared and must not be
// modified.
func DefaultClinics() []Clinic {
	defaultClinicsOnce.Do(func() {
		defaultClinics = GenerateClinics(DefaultClinicSeed, DefaultClinicCount, DefaultCentreCount)
	})
	return slices.Clone(defaultClinics)
}

// GenerateClinics builds a plausible, deterministic clinic data set: the same
// seed and sizes always give the same clinics with the same IDs (1..n, in
// region, district order, centres first within a district).
//
// Clinics are spread over the districts in proportion to population, every
// district getting at least one when nClinics allows; centres go one per
// district first (every region gets at least one when nCentres >= 17), the
// rest to the most populous districts. Capacities follow DOMAIN.md: a centre
// about 600 doses a day (75 per block, some 60 or 90), a clinic about 100 per
// doctor per day with 1-3 doctors (13, 25 or 38 per block). Centres give
// Pfizer and Moderna and work Monday to Saturday; clinics mostly give
// AstraZeneca, some also or only Pfizer/Moderna, and about a third close on
// Saturday. Nobody works on Sunday.
func GenerateClinics(seed int64, nClinics, nCentres int) []Clinic {
	nClinics, nCentres = max(nClinics, 0), max(nCentres, 0)
	type loc struct{ r, d int }
	var locs []loc
	var pops []int
	for ri := range regionData {
		for di := range regionData[ri].Districts {
			locs = append(locs, loc{ri, di})
			pops = append(pops, regionData[ri].Districts[di].Population)
		}
	}
	clinicsPer := genApportion(nClinics, pops)
	centresPer := genCentres(nCentres, pops, func(i int) int { return locs[i].r })

	g := clinicGen{rng: genRNG{state: uint64(seed)*0x9E3779B97F4A7C15 + 0x632BE59BD9B12345}}
	out := make([]Clinic, 0, nClinics+nCentres)
	used := make(map[string]bool)
	for i, l := range locs {
		r := &regionData[l.r]
		d := &r.Districts[l.d]
		clear(used)
		for k := range centresPer[i] {
			out = append(out, g.centre(int64(len(out)+1), r, d, k))
		}
		for range clinicsPer[i] {
			out = append(out, g.clinic(int64(len(out)+1), r, d, used))
		}
	}
	placeClinics(seed, out)
	return out
}

// genApportion shares n out in proportion to weights: everybody gets one
// first (if n allows; otherwise the n heaviest get one each), the rest by the
// largest-remainder method. Deterministic; ties go to the lower index.
func genApportion(n int, weights []int) []int {
	out := make([]int, len(weights))
	if n <= 0 || len(weights) == 0 {
		return out
	}
	if n < len(weights) {
		order := genOrderByWeight(weights)
		for _, i := range order[:n] {
			out[i] = 1
		}
		return out
	}
	rest := int64(n - len(weights))
	var total int64
	for _, w := range weights {
		total += int64(max(w, 0))
	}
	rems := make([]int64, len(weights))
	given := int64(0)
	for i, w := range weights {
		out[i] = 1
		if total > 0 {
			q := rest * int64(max(w, 0))
			out[i] += int(q / total)
			given += q / total
			rems[i] = q % total
		}
	}
	left := int(rest - given)
	if total == 0 { // no weights at all: round robin
		for i := 0; left > 0; i, left = (i+1)%len(out), left-1 {
			out[i]++
		}
		return out
	}
	idx := make([]int, len(weights))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case rems[a] > rems[b]:
			return -1
		case rems[a] < rems[b]:
			return 1
		}
		return 0
	})
	for _, i := range idx[:left] {
		out[i]++
	}
	return out
}

// genCentres places centres: if there are at least as many centres as
// districts, one per district and the rest by population; otherwise one per
// region (in its most populous district) first, then the most populous
// remaining districts.
func genCentres(n int, pops []int, regionOf func(int) int) []int {
	if n >= len(pops) {
		return genApportion(n, pops)
	}
	out := make([]int, len(pops))
	order := genOrderByWeight(pops)
	seen := map[int]bool{}
	for _, i := range order {
		if n == 0 {
			break
		}
		if r := regionOf(i); !seen[r] {
			seen[r] = true
			out[i] = 1
			n--
		}
	}
	for _, i := range order {
		if n == 0 {
			break
		}
		if out[i] == 0 {
			out[i] = 1
			n--
		}
	}
	return out
}

func genOrderByWeight(w []int) []int {
	idx := make([]int, len(w))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return w[b] - w[a] })
	return idx
}

// genRNG is SplitMix64: tiny, fast and, unlike math/rand helpers, fixed
// forever, so a seed names the same data set in every Go version.
type genRNG struct{ state uint64 }

func (r *genRNG) next() uint64 {
	r.state += 0x9E3779B97F4A7C15
	z := r.state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); n > 0.
func (r *genRNG) intn(n int) int { return int(r.next() % uint64(n)) }

// percent reports true with probability p/100.
func (r *genRNG) percent(p int) bool { return r.intn(100) < p }

type genWord struct{ ko, en string }

type genWeighted struct {
	genWord
	weight int
}

func genPick(r *genRNG, list []genWeighted) genWord {
	total := 0
	for _, w := range list {
		total += w.weight
	}
	n := r.intn(total)
	for _, w := range list {
		if n < w.weight {
			return w.genWord
		}
		n -= w.weight
	}
	return list[len(list)-1].genWord
}

var genSpecialties = []genWeighted{
	{genWord{"내과의원", "Internal Medicine Clinic"}, 30},
	{genWord{"가정의학과의원", "Family Medicine Clinic"}, 12},
	{genWord{"소아청소년과의원", "Paediatric Clinic"}, 10},
	{genWord{"이비인후과의원", "ENT Clinic"}, 12},
	{genWord{"정형외과의원", "Orthopaedic Clinic"}, 8},
	{genWord{"외과의원", "Surgical Clinic"}, 6},
	{genWord{"산부인과의원", "Obstetrics and Gynaecology Clinic"}, 4},
	{genWord{"재활의학과의원", "Rehabilitation Medicine Clinic"}, 3},
	{genWord{"의원", "Clinic"}, 10},
	{genWord{"병원", "Hospital"}, 5},
}

var genPrefixes = []genWord{
	{"연세", "Yonsei"}, {"바른", "Bareun"}, {"우리", "Uri"}, {"튼튼", "Teunteun"},
	{"365", "365"}, {"미래", "Mirae"}, {"새봄", "Saebom"}, {"하나", "Hana"},
	{"참", "Cham"}, {"밝은", "Balgeun"}, {"열린", "Yeollin"}, {"좋은", "Joeun"},
	{"건강한", "Geonganghan"}, {"제일", "Jeil"}, {"중앙", "Jungang"}, {"드림", "Dream"},
	{"사랑", "Sarang"}, {"행복", "Haengbok"}, {"푸른", "Pureun"}, {"가족", "Gajok"},
	{"성모", "Seongmo"}, {"한빛", "Hanbit"}, {"새날", "Saenal"}, {"온누리", "Onnuri"},
	{"늘푸른", "Neulpureun"}, {"도담", "Dodam"}, {"다나", "Dana"}, {"소망", "Somang"},
	{"연합", "Yeonhap"}, {"으뜸", "Eutteum"}, {"나래", "Narae"}, {"한마음", "Hanmaeum"},
	{"맑은", "Malgeun"}, {"함께", "Hamkke"}, {"봄", "Bom"}, {"솔", "Sol"},
	{"든든", "Deundeun"}, {"믿음", "Mideum"}, {"정성", "Jeongseong"}, {"새싹", "Saessak"},
	{"누리", "Nuri"}, {"힐링", "Healing"}, {"365열린", "365 Yeollin"}, {"아름다운", "Areumdaun"},
}

var genSurnames = []genWord{
	{"김", "Kim"}, {"이", "Lee"}, {"박", "Park"}, {"최", "Choi"}, {"정", "Jung"},
	{"강", "Kang"}, {"조", "Cho"}, {"윤", "Yoon"}, {"장", "Jang"}, {"임", "Lim"},
	{"한", "Han"}, {"오", "Oh"}, {"서", "Seo"}, {"신", "Shin"}, {"권", "Kwon"},
	{"황", "Hwang"}, {"안", "Ahn"}, {"송", "Song"}, {"류", "Ryu"}, {"홍", "Hong"},
}

var genRoads = []genWord{
	{"중앙", "Jungang"}, {"시청", "Sicheong"}, {"문화", "Munhwa"}, {"평화", "Pyeonghwa"}, {"번영", "Beonyeong"},
	{"희망", "Huimang"}, {"대학", "Daehak"}, {"시장", "Sijang"}, {"역전", "Yeokjeon"}, {"동산", "Dongsan"},
	{"신촌", "Sinchon"}, {"새마을", "Saemaeul"}, {"한빛", "Hanbit"}, {"푸른", "Pureun"}, {"은행", "Eunhaeng"},
	{"매봉", "Maebong"}, {"봉황", "Bonghwang"}, {"소망", "Somang"}, {"공원", "Gongwon"}, {"강변", "Gangbyeon"},
	{"산업", "Saneop"}, {"학교", "Hakgyo"}, {"청석", "Cheongseok"}, {"금강", "Geumgang"}, {"무지개", "Mujigae"},
	{"솔밭", "Solbat"}, {"느티", "Neuti"}, {"장미", "Jangmi"}, {"충효", "Chunghyo"}, {"화랑", "Hwarang"},
}

type clinicGen struct{ rng genRNG }

// genStem is a district's name without its 시/군/구 ending, for use in clinic
// and road names ("강남구" -> "강남", "Gangnam"); ok is false when that
// leaves a single syllable ("중구").
func genStem(r *Region, d *District) (ko, en string, ok bool) {
	if d.Name == r.Name { // Sejong
		return r.Short, r.ShortEN, true
	}
	_, size := utf8.DecodeLastRuneInString(d.Name)
	ko = d.Name[:len(d.Name)-size]
	if utf8.RuneCountInString(ko) < 2 {
		return "", "", false
	}
	en = d.NameEN
	if i := strings.LastIndexByte(en, '-'); i > 0 {
		en = en[:i]
	}
	return ko, en, true
}

// genAmbiguousDistricts are district names used in more than one region;
// centres there are prefixed with the region's short name.
var genAmbiguousDistricts = func() map[string]bool {
	n := map[string]int{}
	for _, r := range regionData {
		for _, d := range r.Districts {
			n[d.Name]++
		}
	}
	out := map[string]bool{}
	for k, v := range n {
		if v > 1 {
			out[k] = true
		}
	}
	return out
}()

func (g *clinicGen) centre(id int64, r *Region, d *District, k int) Clinic {
	ko, en := d.Name, d.NameEN
	if genAmbiguousDistricts[d.Name] {
		ko, en = r.Short+" "+ko, r.ShortEN+" "+en
	}
	name, nameEN := ko+" 예방접종센터", en+" Vaccination Centre"
	if k > 0 {
		n := strconv.Itoa(k + 1)
		name, nameEN = ko+" 제"+n+"예방접종센터", nameEN+" "+n
	}
	capacity := 75
	switch g.rng.intn(10) {
	case 0:
		capacity = 60
	case 1:
		capacity = 90
	}
	addr, addrEN := g.address(r, d) // last: the draws keep their order
	return Clinic{
		ID: id, Name: name, NameEN: nameEN, Kind: KindCentre,
		RegionCode: r.Code, DistrictCode: d.Code,
		Address: addr, AddressEN: addrEN,
		Vaccines:      []string{"pfizer", "moderna"},
		BlockCapacity: capacity,
		OpenDays:      MondayToSaturday,
	}
}

func (g *clinicGen) clinic(id int64, r *Region, d *District, used map[string]bool) Clinic {
	name, nameEN := g.clinicName(r, d, used)
	doctors := 1
	switch x := g.rng.intn(100); {
	case x >= 85:
		doctors = 3
	case x >= 55:
		doctors = 2
	}
	var vax []string
	if g.rng.percent(30) {
		vax = append(vax, "pfizer")
	}
	if g.rng.percent(20) {
		vax = append(vax, "moderna")
	}
	if g.rng.percent(85) || len(vax) == 0 {
		vax = append(vax, "astrazeneca")
	}
	open := MondayToSaturday
	if g.rng.percent(30) {
		open = MondayToFriday
	}
	addr, addrEN := g.address(r, d) // last: the draws keep their order
	return Clinic{
		ID: id, Name: name, NameEN: nameEN, Kind: KindClinic,
		RegionCode: r.Code, DistrictCode: d.Code,
		Address: addr, AddressEN: addrEN,
		Vaccines:      vax,
		BlockCapacity: (doctors*100 + BlocksPerDay/2) / BlocksPerDay,
		OpenDays:      open,
	}
}

func (g *clinicGen) clinicName(r *Region, d *District, used map[string]bool) (string, string) {
	dko, den, hasStem := genStem(r, d)
	stem := func() genWord {
		switch x := g.rng.intn(100); {
		case x < 12 && hasStem:
			return genWord{dko, den}
		case x < 20:
			return genWord{r.Short, r.ShortEN}
		case x < 45:
			return genSurnames[g.rng.intn(len(genSurnames))]
		default:
			return genPrefixes[g.rng.intn(len(genPrefixes))]
		}
	}
	for try := 0; ; try++ {
		s := stem()
		if try >= 6 { // crowded district: two stems, "연세바른내과의원"
			p := genPrefixes[g.rng.intn(len(genPrefixes))]
			s = genWord{s.ko + p.ko, s.en + " " + p.en}
		}
		sp := genPick(&g.rng, genSpecialties)
		name := s.ko + sp.ko
		if try >= 20 {
			name += " " + strconv.Itoa(try-18)
		}
		if !used[name] {
			used[name] = true
			en := s.en + " " + sp.en
			if try >= 20 {
				en += " " + strconv.Itoa(try-18)
			}
			return name, en
		}
	}
}

// address is "<region> <district> <road> <number>", e.g. "서울특별시 강남구
// 봉황로 123" or "경기도 수원시 중앙로45번길 12", and the same in English in
// the romanised form, "123 Bonghwang-ro, Gangnam-gu, Seoul" or "12
// Jungang-ro 45beon-gil, Suwon-si, Gyeonggi-do".
func (g *clinicGen) address(r *Region, d *District) (string, string) {
	var b strings.Builder
	b.Grow(64)
	b.WriteString(r.Name)
	if d.Name != r.Name {
		b.WriteByte(' ')
		b.WriteString(d.Name)
	}
	b.WriteByte(' ')
	road := genRoads[g.rng.intn(len(genRoads))]
	if ko, en, ok := genStem(r, d); ok && g.rng.percent(20) {
		road = genWord{ko, en}
	}
	b.WriteString(road.ko)
	roadEN := road.en
	switch {
	case g.rng.percent(10):
		b.WriteString("대로")
		roadEN += "-daero"
	case !strings.HasSuffix(road.ko, "로"):
		b.WriteString("로")
		roadEN += "-ro"
	default: // "종로" is a road already: "Jongno" is "Jong-ro"
		roadEN = roadEN[:len(roadEN)-2] + "-ro"
	}
	var en string
	if g.rng.percent(35) {
		lane, num := strconv.Itoa(1+g.rng.intn(120)), strconv.Itoa(1+g.rng.intn(60))
		b.WriteString(lane + "번길 " + num)
		en = num + " " + roadEN + " " + lane + "beon-gil"
	} else {
		num := strconv.Itoa(1 + g.rng.intn(400))
		b.WriteString(" " + num)
		en = num + " " + roadEN
	}
	if d.Name != r.Name {
		en += ", " + d.NameEN
	}
	return b.String(), en + ", " + r.NameEN
}
