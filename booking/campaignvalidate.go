package booking

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Validate checks a campaign for consistency and returns a *CampaignError
// listing every problem found, or nil. ParseCampaign calls it; call it
// yourself on a campaign built in code.
func (c *Campaign) Validate() error {
	var p campaignProblems
	if c == nil {
		p.add("nil campaign")
		return p.err("")
	}
	checkCampaignID(&p, "id", c.ID)
	checkText(&p, "", "name", c.Name, true)
	checkText(&p, "", "name_en", c.NameEN, true)

	vaccineIDs := c.checkVaccines(&p)
	c.checkShares(&p)

	if len(c.Cohorts) == 0 {
		p.add("at least one cohort is required")
	}
	cohortIDs := map[string]bool{}
	for i := range c.Cohorts {
		co := &c.Cohorts[i]
		where := cohortWhere(i, co.ID)
		checkNamed(&p, where, "cohort", co.ID, co.Name, co.NameEN, cohortIDs)
		bornOK := checkBornRange(&p, where, co.BornFrom, co.BornTo, true)
		if co.Population < 0 {
			p.add("%s: population %d is negative", where, co.Population)
		}
		if co.SessionLock <= 0 || co.SessionLock > maxSessionLock {
			p.add("%s: session_lock %v must be more than 0 and at most %v", where, co.SessionLock, maxSessionLock)
		}
		seenV := map[string]bool{}
		for _, id := range co.Vaccines {
			if !vaccineIDs[id] {
				p.add("%s: vaccine %q is not defined in the campaign's vaccines", where, id)
			} else if seenV[id] {
				p.add("%s: vaccine %q listed twice", where, id)
			}
			seenV[id] = true
		}
		if bornOK {
			for j := 0; j < i; j++ {
				o := &c.Cohorts[j]
				if !o.BornFrom.After(co.BornTo) && !co.BornFrom.After(o.BornTo) {
					p.add("%s: born_from..born_to %v..%v overlaps %s (%v..%v); a birth date must belong to one cohort",
						where, co.BornFrom, co.BornTo, cohortWhere(j, o.ID), o.BornFrom, o.BornTo)
				}
			}
		}
		if len(co.Windows) == 0 {
			p.add("%s: at least one window is required", where)
		}
		windowIDs := map[string]bool{}
		for j := range co.Windows {
			w := &co.Windows[j]
			ww := windowWhere(where, j, w.ID)
			checkCampaignID(&p, ww+": id", w.ID)
			if w.ID != "" && windowIDs[w.ID] {
				p.add("%s: duplicate window id in this cohort", ww)
			}
			windowIDs[w.ID] = true
			checkText(&p, ww+": ", "label", w.Label, false)
			checkText(&p, ww+": ", "label_en", w.LabelEN, false)
			switch {
			case w.Opens.IsZero():
				p.add("%s: opens is required", ww)
			case w.Closes.IsZero():
				p.add("%s: closes is required", ww)
			case !w.Closes.After(w.Opens):
				p.add("%s: closes before it opens (opens %s, closes %s)", ww,
					w.Opens.In(Seoul).Format(time.RFC3339), w.Closes.In(Seoul).Format(time.RFC3339))
			}
			if w.BirthDayDigit != nil && (*w.BirthDayDigit < 0 || *w.BirthDayDigit > 9) {
				p.add("%s: birth_day_digit %d must be 0-9", ww, *w.BirthDayDigit)
			}
			from, to := co.BornFrom, co.BornTo
			narrowOK := bornOK
			if w.BornFrom != nil {
				from = *w.BornFrom
				if from.IsZero() {
					p.add("%s: born_from is set but empty", ww)
					narrowOK = false
				}
			}
			if w.BornTo != nil {
				to = *w.BornTo
				if to.IsZero() {
					p.add("%s: born_to is set but empty", ww)
					narrowOK = false
				}
			}
			if narrowOK && (w.BornFrom != nil || w.BornTo != nil) {
				narrowOK = checkBornRange(&p, ww, from, to, true)
				if narrowOK && (from.Before(co.BornFrom) || to.After(co.BornTo)) {
					p.add("%s: born_from..born_to %v..%v is not inside the cohort's %v..%v",
						ww, from, to, co.BornFrom, co.BornTo)
					narrowOK = false
				}
			}
			if narrowOK && w.BirthDayDigit != nil && *w.BirthDayDigit >= 0 && *w.BirthDayDigit <= 9 &&
				!anyBirthDayDigit(from, to, *w.BirthDayDigit) {
				p.add("%s: no birth date in %v..%v has a day ending in %d", ww, from, to, *w.BirthDayDigit)
			}
		}
	}
	return p.err(c.ID)
}

// checkVaccines checks the campaign's vaccines and returns their ids.
func (c *Campaign) checkVaccines(p *campaignProblems) (vaccineIDs map[string]bool) {
	if len(c.Vaccines) == 0 {
		p.add("at least one vaccine is required")
	}
	vaccineIDs = map[string]bool{}
	for i := range c.Vaccines {
		v := &c.Vaccines[i]
		where := vaccineWhere(i, v.ID)
		checkNamed(p, where, "vaccine", v.ID, v.Name, v.NameEN, vaccineIDs)
		if v.Supply < 0 {
			p.add("%s: supply %d is negative (0 means unlimited)", where, v.Supply)
		}
		if len(v.Intervals) == 0 {
			p.add("%s: at least one interval rule is required", where)
		}
		froms := map[Date]bool{}
		for j, r := range v.Intervals {
			rw := fmt.Sprintf("%s interval %d", where, j+1)
			if r.From.IsZero() {
				p.add("%s: from is required", rw)
			} else if _, ok := NewDate(r.From.Year, r.From.Month, r.From.Day); !ok {
				p.add("%s: from %v is not a real date", rw, r.From)
			} else if froms[r.From] {
				p.add("%s: another rule has the same from date %v", rw, r.From)
			}
			froms[r.From] = true
			switch {
			case r.EarliestDays < 1:
				p.add("%s: earliest_days %d must be at least 1", rw, r.EarliestDays)
			case r.LatestDays > maxIntervalDays:
				p.add("%s: latest_days %d is more than %d", rw, r.LatestDays, maxIntervalDays)
			case !(r.EarliestDays <= r.DefaultDays && r.DefaultDays <= r.LatestDays):
				p.add("%s: want earliest_days <= default_days <= latest_days, have %d, %d, %d",
					rw, r.EarliestDays, r.DefaultDays, r.LatestDays)
			}
		}
	}
	return vaccineIDs
}

// checkNamed checks the id of a vaccine or a cohort (what), unique among
// those seen so far, and its Korean and English names.
func checkNamed(p *campaignProblems, where, what, id, name, nameEN string, seen map[string]bool) {
	checkCampaignID(p, where+": id", id)
	if id != "" && seen[id] {
		p.add("%s: duplicate %s id", where, what)
	}
	seen[id] = true
	checkText(p, where+": ", "name", name, true)
	checkText(p, where+": ", "name_en", nameEN, true)
}

// checkBornRange checks a birth-date range; required says whether both ends
// must be given. It reports whether the range is usable.
func checkBornRange(p *campaignProblems, where string, from, to Date, required bool) bool {
	ok := true
	for _, f := range []struct {
		name string
		d    Date
	}{{"born_from", from}, {"born_to", to}} {
		if f.d.IsZero() {
			if required {
				p.add("%s: %s is required", where, f.name)
			}
			ok = false
		} else if _, exists := NewDate(f.d.Year, f.d.Month, f.d.Day); !exists {
			p.add("%s: %s %v is not a real date", where, f.name, f.d)
			ok = false
		}
	}
	if ok && from.After(to) {
		p.add("%s: born_from %v is after born_to %v", where, from, to)
		ok = false
	}
	return ok
}

// anyBirthDayDigit reports whether some date in [from, to] has a day of
// month ending in digit. Ten consecutive days always contain every digit.
func anyBirthDayDigit(from, to Date, digit int) bool {
	d := from
	for i := 0; i < 11 && !d.After(to); i++ {
		if d.Day%10 == digit {
			return true
		}
		d = d.AddDays(1)
	}
	return false
}

// checkText checks a name or label shown to people: valid UTF-8, no
// control characters, at most maxCampaignTextLen characters.
func checkText(p *campaignProblems, where, field, s string, required bool) {
	switch {
	case strings.TrimSpace(s) == "":
		if required {
			p.add("%s%s is required", where, field)
		}
	case !utf8.ValidString(s):
		p.add("%s%s is not valid UTF-8", where, field)
	case utf8.RuneCountInString(s) > maxCampaignTextLen:
		p.add("%s%s is longer than %d characters", where, field, maxCampaignTextLen)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		p.add("%s%s contains a control character", where, field)
	}
}

func checkCampaignID(p *campaignProblems, where, id string) {
	if id == "" {
		p.add("%s is required", where)
		return
	}
	if len(id) > maxCampaignIDLen {
		p.add("%s is longer than %d characters", where, maxCampaignIDLen)
		return
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' ||
			i > 0 && (ch == '-' || ch == '_' || ch == '.')) {
			p.add("%s %q: use letters, digits, '-', '_' and '.' only, starting with a letter or digit", where, id)
			return
		}
	}
}
