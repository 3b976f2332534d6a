package booking

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestClinicGenerateDeterministic(t *testing.T) {
	a := GenerateClinics(7, 2000, 40)
	b := GenerateClinics(7, 2000, 40)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gave different clinics")
	}
	c := GenerateClinics(8, 2000, 40)
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds gave identical clinics")
	}
	// The district spread depends only on the sizes, so IDs line up.
	for i := range a {
		if a[i].ID != c[i].ID || a[i].DistrictCode != c[i].DistrictCode || a[i].Kind != c[i].Kind {
			t.Fatalf("clinic %d: placement differs between seeds", i)
		}
	}
	d := DefaultClinics()
	if !reflect.DeepEqual(d, GenerateClinics(2021, 13000, 264)) {
		t.Fatal("DefaultClinics differs from GenerateClinics(2021, 13000, 264)")
	}
	// Pin a few values so an accidental change to the generator shows up.
	if d[0].Name != "종로구 예방접종센터" || d[0].ID != 1 || d[len(d)-1].ID != 13264 {
		t.Errorf("first/last clinic = %+v / %+v", d[0], d[len(d)-1])
	}
}

func TestClinicDefaultDataSet(t *testing.T) {
	cs := DefaultClinics()
	var nClinic, nCentre int
	perDistrict := map[string]int{}
	centresPerRegion := map[string]int{}
	perRegion := map[string]int{}
	namesInDistrict := map[string]bool{}
	for i, c := range cs {
		if c.ID != int64(i+1) {
			t.Fatalf("clinic %d has ID %d", i, c.ID)
		}
		d, r, ok := DistrictByCode(c.DistrictCode)
		if !ok || r.Code != c.RegionCode {
			t.Fatalf("clinic %d: district %q region %q", c.ID, c.DistrictCode, c.RegionCode)
		}
		if c.Name == "" || c.NameEN == "" {
			t.Errorf("clinic %d: empty name", c.ID)
		}
		key := c.DistrictCode + "/" + c.Name
		if namesInDistrict[key] {
			t.Errorf("clinic %d: name %q repeated in %s", c.ID, c.Name, d.Name)
		}
		namesInDistrict[key] = true
		if !strings.HasPrefix(c.Address, r.Name+" ") || (d.Name != r.Name && !strings.Contains(c.Address, " "+d.Name+" ")) {
			t.Errorf("clinic %d: address %q not in %s %s", c.ID, c.Address, r.Name, d.Name)
		}
		if c.OpenDays.Has(time.Sunday) || !c.OpenDays.Has(time.Monday) || !c.OpenDays.Has(time.Friday) {
			t.Errorf("clinic %d: open days %v", c.ID, c.OpenDays)
		}
		if len(c.Vaccines) == 0 {
			t.Errorf("clinic %d: no vaccines", c.ID)
		}
		for _, v := range c.Vaccines {
			if v != "pfizer" && v != "moderna" && v != "astrazeneca" {
				t.Errorf("clinic %d: vaccine %q", c.ID, v)
			}
		}
		perRegion[c.RegionCode]++
		switch c.Kind {
		case KindClinic:
			nClinic++
			perDistrict[c.DistrictCode]++
			if c.BlockCapacity < 12 || c.BlockCapacity > 38 {
				t.Errorf("clinic %d: block capacity %d", c.ID, c.BlockCapacity)
			}
		case KindCentre:
			nCentre++
			centresPerRegion[c.RegionCode]++
			if c.BlockCapacity < 60 || c.BlockCapacity > 90 {
				t.Errorf("centre %d: block capacity %d", c.ID, c.BlockCapacity)
			}
			if !reflect.DeepEqual(c.Vaccines, []string{"pfizer", "moderna"}) {
				t.Errorf("centre %d: vaccines %v", c.ID, c.Vaccines)
			}
			if !strings.HasSuffix(c.Name, "예방접종센터") || !strings.Contains(c.NameEN, "Vaccination Centre") {
				t.Errorf("centre %d: name %q / %q", c.ID, c.Name, c.NameEN)
			}
		default:
			t.Errorf("clinic %d: kind %q", c.ID, c.Kind)
		}
	}
	if nClinic != 13000 || nCentre != 264 {
		t.Errorf("%d clinics and %d centres, want 13000 and 264", nClinic, nCentre)
	}
	totalPop := 0
	for _, r := range Regions() {
		totalPop += r.Population
		if centresPerRegion[r.Code] == 0 {
			t.Errorf("region %s has no centre", r.Name)
		}
		for _, d := range r.Districts {
			if perDistrict[d.Code] == 0 {
				t.Errorf("district %s %s has no clinic", r.Name, d.Name)
			}
		}
	}
	// Spread in proportion to population (within 10%).
	for _, r := range Regions() {
		want := float64(r.Population) / float64(totalPop) * float64(len(cs))
		if got := float64(perRegion[r.Code]); got < want*0.9 || got > want*1.1 {
			t.Errorf("region %s: %v clinics, want about %.0f", r.Name, got, want)
		}
	}
	if perRegion["36"] > len(cs)/50 {
		t.Errorf("Sejong has %d clinics, should be few", perRegion["36"])
	}
	if perRegion["41"] < 3000 {
		t.Errorf("Gyeonggi has %d clinics", perRegion["41"])
	}
	// Mostly AstraZeneca at clinics, with some Pfizer and Moderna.
	count := map[string]int{}
	for _, c := range cs {
		if c.Kind == KindClinic {
			for _, v := range c.Vaccines {
				count[v]++
			}
		}
	}
	if count["astrazeneca"] < nClinic*3/4 || count["pfizer"] < nClinic/10 || count["moderna"] < nClinic/20 {
		t.Errorf("vaccine mix %v", count)
	}
}

func TestClinicGenerateSizes(t *testing.T) {
	tests := []struct {
		clinics, centres int
	}{
		{0, 0}, {1, 0}, {0, 1}, {10, 5}, {17, 17}, {228, 228}, {229, 229}, {230, 300}, {500, 20},
	}
	for _, tt := range tests {
		cs := GenerateClinics(1, tt.clinics, tt.centres)
		var nc, nz int
		regions := map[string]bool{}
		districts := map[string]bool{}
		for _, c := range cs {
			if c.Kind == KindCentre {
				nz++
				regions[c.RegionCode] = true
			} else {
				nc++
				districts[c.DistrictCode] = true
			}
		}
		if nc != tt.clinics || nz != tt.centres {
			t.Errorf("GenerateClinics(1, %d, %d): %d clinics, %d centres", tt.clinics, tt.centres, nc, nz)
		}
		if wantR := min(tt.centres, 17); len(regions) != wantR {
			t.Errorf("GenerateClinics(1, %d, %d): centres in %d regions, want %d", tt.clinics, tt.centres, len(regions), wantR)
		}
		if wantD := min(tt.clinics, regionTestDistricts); len(districts) != wantD {
			t.Errorf("GenerateClinics(1, %d, %d): clinics in %d districts, want %d", tt.clinics, tt.centres, len(districts), wantD)
		}
	}
	if cs := GenerateClinics(1, -5, -5); len(cs) != 0 {
		t.Errorf("negative sizes gave %d clinics", len(cs))
	}
}

func TestClinicCapacity(t *testing.T) {
	c := Clinic{ID: 1, BlockCapacity: 25, OpenDays: MondayToFriday}
	centre := Clinic{ID: 2, BlockCapacity: 75, OpenDays: MondayToSaturday}
	mon := Date{2021, time.July, 26}
	sat := Date{2021, time.July, 31}
	sun := Date{2021, time.August, 1}
	tests := []struct {
		name  string
		c     Clinic
		b     TimeBlock
		d     Date
		want  int
		wantD int
	}{
		{"clinic monday first block", c, 0, mon, 25, 200},
		{"clinic monday last block", c, BlocksPerDay - 1, mon, 25, 200},
		{"block before day", c, -1, mon, 0, 200},
		{"block after day", c, BlocksPerDay, mon, 0, 200},
		{"clinic saturday closed", c, 0, sat, 0, 0},
		{"clinic sunday closed", c, 0, sun, 0, 0},
		{"centre saturday", centre, 3, sat, 75, 600},
		{"centre sunday closed", centre, 3, sun, 0, 0},
		{"invalid date", centre, 3, Date{2021, time.February, 29}, 0, 0},
		{"zero date", centre, 3, Date{}, 0, 0},
	}
	for _, tt := range tests {
		if got := tt.c.Capacity(tt.b, tt.d); got != tt.want {
			t.Errorf("%s: Capacity = %d, want %d", tt.name, got, tt.want)
		}
		if got := tt.c.DayCapacity(tt.d); got != tt.wantD {
			t.Errorf("%s: DayCapacity = %d, want %d", tt.name, got, tt.wantD)
		}
	}
	// No generated clinic has Sunday capacity, on any Sunday of the campaign.
	for _, cl := range DefaultClinics() {
		for d := (Date{2021, time.July, 4}); d.Before(Date{2022, time.January, 1}); d = d.AddDays(7) {
			for b := TimeBlock(0); b < BlocksPerDay; b++ {
				if cl.Capacity(b, d) != 0 {
					t.Fatalf("clinic %d open on Sunday %s", cl.ID, d)
				}
			}
		}
	}
}

func TestClinicWeekdaySetText(t *testing.T) {
	tests := []struct {
		s    WeekdaySet
		text string
	}{
		{0, ""},
		{MondayToFriday, "mon,tue,wed,thu,fri"},
		{MondayToSaturday, "mon,tue,wed,thu,fri,sat"},
		{WeekdaySet(0).With(time.Sunday).With(time.Wednesday), "sun,wed"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.text {
			t.Errorf("%08b.String() = %q, want %q", tt.s, got, tt.text)
		}
		var back WeekdaySet
		if err := back.UnmarshalText([]byte(tt.text)); err != nil || back != tt.s {
			t.Errorf("UnmarshalText(%q) = %v, %v", tt.text, back, err)
		}
	}
	var s WeekdaySet
	if err := s.UnmarshalText([]byte("mon,funday")); err == nil {
		t.Error("UnmarshalText accepted an unknown day")
	}
	if MondayToSaturday.Without(time.Saturday) != MondayToFriday {
		t.Error("Without")
	}
	b, err := json.Marshal(Clinic{OpenDays: MondayToFriday})
	if err != nil || !strings.Contains(string(b), `"OpenDays":"mon,tue,wed,thu,fri"`) {
		t.Errorf("JSON = %s, %v", b, err)
	}
}

func TestClinicDayNumbers(t *testing.T) {
	// availDayNumber/availDate/availWeekday against package time, over a
	// wide range including leap years and century boundaries.
	start := time.Date(1895, time.January, 1, 0, 0, 0, 0, time.UTC)
	for i := range 80000 {
		tm := start.AddDate(0, 0, i)
		d := Date{tm.Year(), tm.Month(), tm.Day()}
		dn, ok := availDayNumber(d)
		if !ok {
			t.Fatalf("%s rejected", d)
		}
		if want := tm.Unix() / 86400; int64(dn) != want {
			t.Fatalf("%s: day %d, want %d", d, dn, want)
		}
		if back := availDate(dn); back != d {
			t.Fatalf("%s: back %s", d, back)
		}
		if availWeekday(dn) != tm.Weekday() {
			t.Fatalf("%s: weekday %v, want %v", d, availWeekday(dn), tm.Weekday())
		}
	}
	for _, d := range []Date{{2021, 2, 29}, {2021, 4, 31}, {2021, 13, 1}, {2021, 0, 1}, {2021, 1, 0}, {1900, 2, 29}, {}} {
		if _, ok := availDayNumber(d); ok {
			t.Errorf("%v accepted", d)
		}
	}
	for _, d := range []Date{{2020, 2, 29}, {2000, 2, 29}, {2021, 12, 31}} {
		if _, ok := availDayNumber(d); !ok {
			t.Errorf("%v rejected", d)
		}
	}
}

// BenchmarkGenerateClinics: the default data set (13,000 clinics, 264
// centres) is generated at every start; compare runs with benchstat rather
// than holding it to a wall-clock limit in a test.
func BenchmarkGenerateClinics(b *testing.B) {
	for b.Loop() {
		GenerateClinics(2021, 13000, 264)
	}
}
