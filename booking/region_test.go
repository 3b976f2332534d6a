package booking

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The district count: 226 autonomous si/gun/gu (75 + 82 + 69), plus Jeju's
// two administrative cities and one entry for Sejong.
const regionTestDistricts = 226 + 2 + 1

func TestRegionTable(t *testing.T) {
	want := []struct {
		code, name, short string
		districts         int
	}{
		{"11", "서울특별시", "서울", 25},
		{"26", "부산광역시", "부산", 16},
		{"27", "대구광역시", "대구", 9}, // with 군위군 since 2023
		{"28", "인천광역시", "인천", 10},
		{"29", "광주광역시", "광주", 5},
		{"30", "대전광역시", "대전", 5},
		{"31", "울산광역시", "울산", 5},
		{"36", "세종특별자치시", "세종", 1},
		{"41", "경기도", "경기", 31},
		{"51", "강원특별자치도", "강원", 18},
		{"43", "충청북도", "충북", 11},
		{"44", "충청남도", "충남", 15},
		{"52", "전북특별자치도", "전북", 14},
		{"46", "전라남도", "전남", 22},
		{"47", "경상북도", "경북", 22},
		{"48", "경상남도", "경남", 18},
		{"50", "제주특별자치도", "제주", 2},
	}
	rs := Regions()
	if len(rs) != len(want) {
		t.Fatalf("%d regions, want %d", len(rs), len(want))
	}
	for i, w := range want {
		r := rs[i]
		if r.Code != w.code || r.Name != w.name || r.Short != w.short || len(r.Districts) != w.districts {
			t.Errorf("region %d = %s %s %s (%d districts), want %s %s %s (%d)",
				i, r.Code, r.Name, r.Short, len(r.Districts), w.code, w.name, w.short, w.districts)
		}
		got, ok := RegionByCode(w.code)
		if !ok || got.Name != w.name {
			t.Errorf("RegionByCode(%q) = %v, %v", w.code, got, ok)
		}
	}
}

func TestRegionDistrictSanity(t *testing.T) {
	total, si, gun, gu := 0, 0, 0, 0
	codes := map[string]bool{}
	regionCodes := map[string]bool{}
	for _, r := range Regions() {
		if regionCodes[r.Code] {
			t.Errorf("duplicate region code %s", r.Code)
		}
		regionCodes[r.Code] = true
		if len(r.Code) != 2 || r.NameEN == "" || r.ShortEN == "" || r.Population <= 0 {
			t.Errorf("region %+v: bad code, English name or population", r)
		}
		if !strings.HasSuffix(r.Name, "시") && !strings.HasSuffix(r.Name, "도") {
			t.Errorf("region name %q should end in 시 or 도", r.Name)
		}
		if len(r.Districts) == 0 {
			t.Errorf("region %s has no districts", r.Code)
		}
		sum := 0
		names := map[string]bool{}
		for _, d := range r.Districts {
			total++
			sum += d.Population
			if codes[d.Code] {
				t.Errorf("duplicate district code %s", d.Code)
			}
			codes[d.Code] = true
			if len(d.Code) != 5 || !strings.HasPrefix(d.Code, r.Code) {
				t.Errorf("district %s %s: code must be 5 digits starting with %s", d.Code, d.Name, r.Code)
			}
			for _, c := range d.Code {
				if c < '0' || c > '9' {
					t.Errorf("district code %q not numeric", d.Code)
				}
			}
			if names[d.Name] {
				t.Errorf("duplicate district name %s in %s", d.Name, r.Name)
			}
			names[d.Name] = true
			if d.NameEN == "" || d.Population <= 0 || utf8.RuneCountInString(d.Name) < 2 {
				t.Errorf("district %+v: missing English name or population", d)
			}
			if d.Name == r.Name { // Sejong
				continue
			}
			last, _ := utf8.DecodeLastRuneInString(d.Name)
			var suffix string
			switch last {
			case '시':
				si++
				suffix = "-si"
			case '군':
				gun++
				suffix = "-gun"
			case '구':
				gu++
				suffix = "-gu"
			default:
				t.Errorf("district %q should end in 시, 군 or 구", d.Name)
			}
			if !strings.HasSuffix(d.NameEN, suffix) {
				t.Errorf("district %s: English name %q should end in %q", d.Name, d.NameEN, suffix)
			}
			got, gr, ok := DistrictByCode(d.Code)
			if !ok || got.Name != d.Name || gr.Code != r.Code {
				t.Errorf("DistrictByCode(%q) = %v, %v, %v", d.Code, got, gr, ok)
			}
		}
		// District populations are rounded; they must roughly add up.
		if diff := float64(sum-r.Population) / float64(r.Population); diff > 0.05 || diff < -0.05 {
			t.Errorf("region %s: districts add up to %d, region says %d", r.Name, sum, r.Population)
		}
	}
	if total != regionTestDistricts {
		t.Errorf("%d districts, want %d", total, regionTestDistricts)
	}
	// 75 si + Jeju's 2 administrative cities; 82 gun; 69 autonomous gu.
	if si != 77 || gun != 82 || gu != 69 {
		t.Errorf("si/gun/gu = %d/%d/%d, want 77/82/69", si, gun, gu)
	}
}

func TestRegionLookupMisses(t *testing.T) {
	for _, code := range []string{"", "1", "42", "45", "99", "11680x"} {
		if r, ok := RegionByCode(code); ok {
			t.Errorf("RegionByCode(%q) = %v", code, r)
		}
	}
	for _, code := range []string{"", "11", "42110", "45110", "47720", "99999"} {
		if d, _, ok := DistrictByCode(code); ok {
			t.Errorf("DistrictByCode(%q) = %v", code, d)
		}
	}
	d, r, ok := DistrictByCode("36110")
	if !ok || d.Name != "세종특별자치시" || r.Code != "36" {
		t.Errorf("Sejong district = %v %v %v", d, r, ok)
	}
}

func TestRegionsReturnsCopy(t *testing.T) {
	rs := Regions()
	rs[0].Name = "x"
	if Regions()[0].Name != "서울특별시" {
		t.Fatal("Regions() exposes package data")
	}
}
