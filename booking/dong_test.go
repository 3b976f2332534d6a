package booking

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDongsOfEveryDistrict(t *testing.T) {
	for _, r := range Regions() {
		for i := range r.Districts {
			d := &r.Districts[i]
			dongs := Dongs(d.Code)
			if len(dongs) < 3 || len(dongs) > 24 {
				t.Errorf("%s: %d neighbourhoods", d.Name, len(dongs))
			}
			if !slices.IsSortedFunc(dongs, func(a, b Dong) int { return strings.Compare(a.Name, b.Name) }) {
				t.Errorf("%s: not in name order", d.Name)
			}
			for k, dg := range dongs {
				if k > 0 && dongs[k-1].Name == dg.Name {
					t.Errorf("%s: %s twice", d.Name, dg.Name)
				}
				if !strings.HasSuffix(dg.Name, "동") || !strings.HasSuffix(dg.NameEN, "-dong") {
					t.Errorf("%s: %q / %q", d.Name, dg.Name, dg.NameEN)
				}
				if Distance(dg.X, dg.Y, 0, 0) > int(dongRadius(d)) {
					t.Errorf("%s: %s at (%d, %d) is outside the district", d.Name, dg.Name, dg.X, dg.Y)
				}
			}
		}
	}
	if Dongs("99999") != nil {
		t.Error("an unknown district has neighbourhoods")
	}
	// The same on every run: they depend on the district alone.
	if a, b := genDongs(&regionData[0].Districts[0]), Dongs(regionData[0].Districts[0].Code); !slices.Equal(a, b) {
		t.Errorf("neighbourhoods differ between runs: %v, %v", a, b)
	}
}

func TestClinicsHaveNeighbourhoodsAndEnglishAddresses(t *testing.T) {
	for _, c := range DefaultClinics() {
		d, r, _ := DistrictByCode(c.DistrictCode)
		dg, ok := DongOf(c.DistrictCode, c.Dong)
		if !ok || dg.NameEN != c.DongEN {
			t.Fatalf("clinic %d: neighbourhood %q/%q not of %s", c.ID, c.Dong, c.DongEN, d.Name)
		}
		if Distance(c.X, c.Y, dg.X, dg.Y) > int(dongRadius(d)/6)+1 {
			t.Fatalf("clinic %d is %d m from the centre of %s", c.ID, Distance(c.X, c.Y, dg.X, dg.Y), dg.Name)
		}
		want := ", " + d.NameEN + ", " + r.NameEN
		if d.Name == r.Name {
			want = ", " + r.NameEN
		}
		if !strings.HasSuffix(c.AddressEN, want) || !strings.Contains(c.AddressEN, "-ro") && !strings.Contains(c.AddressEN, "-daero") && !strings.Contains(c.AddressEN, "ro ") {
			t.Fatalf("clinic %d: English address %q (Korean %q)", c.ID, c.AddressEN, c.Address)
		}
	}
}

func TestSearchByNeighbourhood(t *testing.T) {
	dongs := Dongs("11680")
	one, two := dongs[0], dongs[1]
	cs := avtClinics()
	// 10 and 12 in the first neighbourhood, 11 in the second; 12 at the
	// first's centre, 10 five metres off it, 11 at the second's centre.
	for i := range cs {
		switch cs[i].ID {
		case 10:
			cs[i].Dong, cs[i].X, cs[i].Y = one.Name, one.X+5, one.Y
		case 11:
			cs[i].Dong, cs[i].X, cs[i].Y = two.Name, two.X, two.Y
		case 12:
			cs[i].Dong, cs[i].X, cs[i].Y = one.Name, one.X, one.Y
		}
	}
	a := NewAvailability(cs)
	mon := Date{2021, time.July, 26}
	for _, tt := range []struct {
		name string
		q    SearchQuery
		want []int64
	}{
		// Free on Monday: 12: 600, 11: 200, 10: 104.
		{"by free places", SearchQuery{DistrictCode: "11680", Date: mon}, []int64{12, 11, 10}},
		{"one neighbourhood", SearchQuery{DistrictCode: "11680", Dong: one.Name, Date: mon}, []int64{12, 10}},
		{"near the first", SearchQuery{DistrictCode: "11680", Near: one.Name, Date: mon}, []int64{12, 10, 11}},
		{"near the second", SearchQuery{DistrictCode: "11680", Near: two.Name, Date: mon, Limit: 1}, []int64{11}},
		{"near, second page", SearchQuery{DistrictCode: "11680", Near: one.Name, Date: mon, Limit: 2, Offset: 2}, []int64{11}},
		{"near and in one", SearchQuery{DistrictCode: "11680", Dong: two.Name, Near: one.Name, Date: mon}, []int64{11}},
		{"unknown neighbourhood", SearchQuery{DistrictCode: "11680", Dong: "없는동", Date: mon}, nil},
		{"near an unknown one", SearchQuery{DistrictCode: "11680", Near: "없는동", Date: mon}, nil},
		{"neighbourhood without district", SearchQuery{RegionCode: "11", Dong: one.Name, Date: mon}, nil},
	} {
		if got := avtIDs(a.Search(tt.q)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
