package rehearsal

import (
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"
)

// WriteReport writes dir/index.html: a self-contained page with the
// outcomes and SVG charts of the timeline.
func (r *Result) WriteReport(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "index.html"))
	if err != nil {
		return err
	}
	charts := []struct {
		Title string
		SVG   template.HTML
	}{
		{"Arrivals per minute", chart(r.Timeline, func(m Minute) float64 { return float64(m.Arrivals) })},
		{"People waiting", chart(r.Timeline, func(m Minute) float64 { return float64(m.Waiting) })},
		{"Active sessions", chart(r.Timeline, func(m Minute) float64 { return float64(m.ActiveSessions) })},
		{"Admissions per second", chart(r.Timeline, func(m Minute) float64 { return m.AdmissionsPS })},
		{"Status requests per second at the front door", chart(r.Timeline, func(m Minute) float64 { return m.StatusPS })},
		{"Bookings per second", chart(r.Timeline, func(m Minute) float64 { return m.BookingsPS })},
		{"Free first-dose places", chart(r.Timeline, func(m Minute) float64 { return float64(m.FreeSlots) })},
	}
	var sum strings.Builder
	r.PrintSummary(&sum)
	err = reportPage.Execute(f, map[string]any{"R": r, "Charts": charts, "Summary": sum.String()})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// chart draws one series of the timeline as an SVG line over the minutes.
func chart(tl []Minute, y func(Minute) float64) template.HTML {
	const w, h, pad = 640.0, 180.0, 40.0
	top := 0.0
	for _, m := range tl {
		top = max(top, y(m))
	}
	if top == 0 {
		top = 1
	}
	n := max(1, len(tl)-1)
	var pts strings.Builder
	for i, m := range tl {
		x := pad + (w-2*pad)*float64(i)/float64(n)
		yy := h - pad/2 - (h-pad)*y(m)/top
		fmt.Fprintf(&pts, "%.1f,%.1f ", x, yy)
	}
	last := 0
	if len(tl) > 0 {
		last = tl[len(tl)-1].Minute
	}
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img">`+
		`<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#999"/>`+
		`<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#999"/>`+
		`<text x="2" y="%.0f" font-size="11">%s</text><text x="2" y="%.0f" font-size="11">0</text>`+
		`<text x="%.0f" y="%.0f" font-size="11">minute 0</text><text x="%.0f" y="%.0f" font-size="11" text-anchor="end">minute %d</text>`+
		`<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="%s"/></svg>`,
		w, h, w, h,
		pad, h-pad/2, w-pad, h-pad/2,
		pad, pad/2, pad, h-pad/2,
		pad/2+4, short(top), h-pad/2,
		pad, h-4, w-pad, h-4, last,
		strings.TrimSpace(pts.String()))
	return template.HTML(svg) // built here from numbers only
}

func short(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

var reportPage = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Rehearsal: {{.R.Scenario}}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}pre{background:#f4f4f4;padding:1rem;overflow:auto}figure{margin:1rem 0}</style>
</head><body>
<h1>Rehearsal of {{.R.Scenario}}</h1>
<p>Seed {{.R.Seed}}: {{.R.Arrivals}} arrivals, {{.R.Booked}} booked, wait p50 {{.R.WaitP50}} s and p99 {{.R.WaitP99}} s,
{{.R.FIFOInversions}} FIFO inversions, {{.R.Overbooked}} overbooked slots, peak {{.R.PeakFrontDoorRPS}} requests per second at the front door.</p>
{{range .Charts}}<figure><figcaption>{{.Title}}</figcaption>{{.SVG}}</figure>
{{end}}
<h2>Summary</h2>
<pre>{{.Summary}}</pre>
</body></html>
`))
