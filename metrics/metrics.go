// Package metrics exports Sluice's counters to Prometheus. The hot paths
// only bump atomic counters in their own packages; this collector reads them
// at scrape time, so serving requests never touches the Prometheus client.
package metrics

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/room"
)

// Sources are where the collector reads from.
type Sources struct {
	Rooms *room.Manager
	// GateRejections returns rejections by room and reason.
	GateRejections func() map[string]map[string]uint64
	// Booking, if set, is the booking service whose statistics are exported.
	Booking *booking.Service
}

type collector struct {
	src                                                          Sources
	joins, admissions, leaves, expired, skipped, active, waiting *prometheus.Desc
	state                                                        *prometheus.Desc
	capacity, rate, measured, rejections                         *prometheus.Desc
	cohortBooked, cohortPop, cohortRate, supplyUsed, supplyAlloc *prometheus.Desc
	dayBooked, dayFree                                           *prometheus.Desc
	// Pacing (docs/PACING.md): the objective, the measured signal and the
	// chosen rate.
	pacingAuto, pacingTarget, pacingMaxErr, pacingMin, pacingMax *prometheus.Desc
	backendP95, backendErrRate, backendInFlight, backendLimit    *prometheus.Desc
	backendHeld, backendBusy, backendRequests, pacingChanges     *prometheus.Desc
	pacingEndRate, pacingLeader                                  *prometheus.Desc
}

func newCollector(src Sources) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("sluice_"+name, help, append([]string{"room"}, labels...), nil)
	}
	return &collector{
		src:          src,
		joins:        d("joins_total", "Tickets issued."),
		admissions:   d("admissions_total", "People admitted (sessions started)."),
		leaves:       d("leaves_total", "Passes returned through /leave."),
		expired:      d("sessions_expired_total", "Admitted sessions that ended by expiry (unclaimed or pass lifetime over)."),
		skipped:      d("places_skipped_total", "Places passed over without a session after a crash, because they may have been empty (their holders may still claim them)."),
		active:       d("active_sessions", "Admitted sessions active now (never above capacity)."),
		waiting:      d("queue_length", "People in line not yet admitted."),
		state:        d("room_state", "1 for the room's current state.", "state"),
		capacity:     d("capacity", "Configured capacity (max active sessions)."),
		rate:         d("admission_rate_limit", "Configured max admissions per second."),
		measured:     d("admission_rate", "Measured admissions per second used for ETAs."),
		rejections:   d("gate_rejections_total", "Requests rejected by the gate, by reason.", "reason"),
		cohortBooked: prometheus.NewDesc("sluice_booking_cohort_bookings", "Active bookings per cohort.", []string{"campaign", "cohort"}, nil),
		cohortPop:    prometheus.NewDesc("sluice_booking_cohort_population", "Eligible people per cohort (campaign data).", []string{"campaign", "cohort"}, nil),
		cohortRate:   prometheus.NewDesc("sluice_booking_cohort_rate", "Share of the cohort's eligible people who have booked (0..1).", []string{"campaign", "cohort"}, nil),
		supplyUsed:   prometheus.NewDesc("sluice_booking_vaccine_doses_used", "Doses booked per vaccine across the programme (both doses count).", []string{"vaccine"}, nil),
		supplyAlloc:  prometheus.NewDesc("sluice_booking_vaccine_doses_allocated", "Dose allocation per vaccine across the programme (0 = unlimited).", []string{"vaccine"}, nil),
		dayBooked:    prometheus.NewDesc("sluice_booking_today_booked", "Appointments booked for today (campaign clock), all clinics, by region.", []string{"region"}, nil),
		dayFree:      prometheus.NewDesc("sluice_booking_today_free", "Free appointments today (campaign clock), all clinics, by region.", []string{"region"}, nil),

		pacingAuto:      d("pacing_auto", "1 while the room's admission rate is chosen from the backend's health (pacing.mode auto), 0 while fixed."),
		pacingTarget:    d("pacing_target_p95_seconds", "Objective: the backend's p95 latency (pacing.target_p95)."),
		pacingMaxErr:    d("pacing_max_error_rate", "Objective: the most backend answers that may fail, as a share (pacing.max_error_rate)."),
		pacingMin:       d("pacing_min_rate", "Lowest admission rate auto pacing may choose (pacing.min_rate)."),
		pacingMax:       d("pacing_max_rate", "Highest admission rate auto pacing may choose (pacing.max_rate)."),
		pacingChanges:   d("pacing_rate_changes_total", "Changes of the admission rate this node's pacer made (each logged with its reason)."),
		pacingEndRate:   d("pacing_end_rate", "Rate at which the line's places end (left or expired), per second over the last 10 s: the pacer's sessions signal, measured on every node (0 while the room does not pace)."),
		pacingLeader:    d("pacing_leader", "1 while this node's pacer leads the room's pacing (chooses the rate for every node), 0 otherwise or while the room does not pace."),
		backendP95:      d("backend_latency_p95_seconds", "p95 latency of the protected backend's answers over the last window, as this node's gate saw them (held at the gate included)."),
		backendErrRate:  d("backend_error_rate", "Share of the protected backend's answers over the last window that were 5xx or did not come."),
		backendInFlight: d("backend_in_flight", "Requests this node's gate has let through to the backend and not yet seen answered."),
		backendLimit:    d("backend_in_flight_limit", "The adaptive bound on requests in flight to the backend (0 while not limiting: pacing fixed)."),
		backendHeld:     d("backend_held", "Requests held at the gate now, waiting for a place in flight."),
		backendBusy:     d("backend_busy", "Requests refused (503 backend_busy) over the last window for want of a place in flight."),
		backendRequests: d("backend_requests", "Backend answers over the last window."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.joins, c.admissions, c.leaves, c.expired, c.skipped, c.active, c.waiting, c.state, c.capacity, c.rate, c.measured, c.rejections,
		c.cohortBooked, c.cohortPop, c.cohortRate, c.supplyUsed, c.supplyAlloc, c.dayBooked, c.dayFree,
		c.pacingAuto, c.pacingTarget, c.pacingMaxErr, c.pacingMin, c.pacingMax,
		c.backendP95, c.backendErrRate, c.backendInFlight, c.backendLimit, c.backendHeld, c.backendBusy, c.backendRequests, c.pacingChanges,
		c.pacingEndRate, c.pacingLeader} {
		ch <- d
	}
}

var states = []room.State{room.StateScheduled, room.StatePrequeue, room.StateOpen, room.StatePaused, room.StateClosed}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	for _, r := range c.src.Rooms.Rooms() {
		k := r.Counters()
		n := k.Room
		ch <- prometheus.MustNewConstMetric(c.joins, prometheus.CounterValue, float64(k.JoinsTotal), n)
		ch <- prometheus.MustNewConstMetric(c.admissions, prometheus.CounterValue, float64(k.Admissions), n)
		ch <- prometheus.MustNewConstMetric(c.leaves, prometheus.CounterValue, float64(k.Leaves), n)
		ch <- prometheus.MustNewConstMetric(c.expired, prometheus.CounterValue, float64(k.Expired), n)
		ch <- prometheus.MustNewConstMetric(c.skipped, prometheus.CounterValue, float64(k.Skipped), n)
		ch <- prometheus.MustNewConstMetric(c.active, prometheus.GaugeValue, float64(k.Active), n)
		ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(k.Waiting), n)
		ch <- prometheus.MustNewConstMetric(c.capacity, prometheus.GaugeValue, float64(k.Settings.Capacity), n)
		ch <- prometheus.MustNewConstMetric(c.rate, prometheus.GaugeValue, k.Settings.Rate, n)
		ch <- prometheus.MustNewConstMetric(c.measured, prometheus.GaugeValue, k.AdmitRate, n)
		c.collectPacing(ch, r, k.Settings.Pacing)
		for _, s := range states {
			v := 0.0
			if k.State == s {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, v, n, string(s))
		}
	}
	if b := c.src.Booking; b != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := b.Stats(ctx)
		cancel()
		if err == nil {
			for _, cs := range st.Campaigns {
				for _, co := range cs.Cohorts {
					ch <- prometheus.MustNewConstMetric(c.cohortBooked, prometheus.GaugeValue, float64(co.Booked), cs.CampaignID, co.ID)
					ch <- prometheus.MustNewConstMetric(c.cohortPop, prometheus.GaugeValue, float64(co.Population), cs.CampaignID, co.ID)
					ch <- prometheus.MustNewConstMetric(c.cohortRate, prometheus.GaugeValue, co.Rate, cs.CampaignID, co.ID)
				}
			}
			for _, v := range st.Vaccines {
				ch <- prometheus.MustNewConstMetric(c.supplyUsed, prometheus.GaugeValue, float64(v.Used), v.ID)
				ch <- prometheus.MustNewConstMetric(c.supplyAlloc, prometheus.GaugeValue, float64(v.Allocated), v.ID)
			}
			for _, rt := range b.Availability().RegionTotals(booking.DateOf(st.At)) {
				ch <- prometheus.MustNewConstMetric(c.dayBooked, prometheus.GaugeValue, float64(rt.Booked), rt.RegionCode)
				ch <- prometheus.MustNewConstMetric(c.dayFree, prometheus.GaugeValue, float64(rt.Free), rt.RegionCode)
			}
		}
	}
	if c.src.GateRejections != nil {
		for roomName, reasons := range c.src.GateRejections() {
			for reason, v := range reasons {
				ch <- prometheus.MustNewConstMetric(c.rejections, prometheus.CounterValue, float64(v), roomName, reason)
			}
		}
	}
}

// collectPacing exports a room's pacing and its backend's health.
func (c *collector) collectPacing(ch chan<- prometheus.Metric, r *room.Room, p room.Pacing) {
	n := r.Name()
	g := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, n)
	}
	auto := 0.0
	if p.Auto() {
		auto = 1
	}
	g(c.pacingAuto, auto)
	g(c.pacingTarget, p.TargetP95.Seconds())
	g(c.pacingMaxErr, p.MaxErrorRate)
	g(c.pacingMin, p.MinRate)
	g(c.pacingMax, p.MaxRate)
	ch <- prometheus.MustNewConstMetric(c.pacingChanges, prometheus.CounterValue, float64(r.PaceChanges()), n)
	g(c.pacingEndRate, r.PaceEndRate())
	lead := 0.0
	if r.PaceLead() {
		lead = 1
	}
	g(c.pacingLeader, lead)
	h := r.Health().Read()
	g(c.backendP95, h.P95.Seconds())
	g(c.backendErrRate, h.ErrorRate)
	g(c.backendInFlight, float64(h.InFlight))
	g(c.backendLimit, h.Limit)
	g(c.backendHeld, float64(h.Held))
	g(c.backendBusy, float64(h.Busy))
	g(c.backendRequests, float64(h.Requests))
}

// Registry is a Prometheus registry with Sluice's collectors and the Go
// runtime's.
type Registry struct {
	*prometheus.Registry
	collectors []prometheus.Collector
}

// New builds the registry.
func New(src Sources) *Registry {
	reg := &Registry{Registry: prometheus.NewRegistry(), collectors: []prometheus.Collector{
		newCollector(src), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}}
	reg.MustRegister(reg.collectors...)
	return reg
}

// Names returns the name of every metric family the registry can export,
// sorted, whether or not it has a sample now (a room-less server exports
// no room metrics, yet they exist): what alert rules and dashboards may
// name (deploy/deploy_test.go checks them against it).
func (r *Registry) Names() []string {
	ch := make(chan *prometheus.Desc)
	go func() {
		for _, c := range r.collectors {
			c.Describe(ch)
		}
		close(ch)
	}()
	seen := map[string]bool{}
	for d := range ch {
		// The client library gives a Desc no name accessor; its String
		// is `Desc{fqName: "name", ...}`.
		if _, rest, ok := strings.Cut(d.String(), `fqName: "`); ok {
			if name, _, ok := strings.Cut(rest, `"`); ok {
				seen[name] = true
			}
		}
	}
	if mfs, err := r.Gather(); err == nil {
		for _, mf := range mfs {
			seen[mf.GetName()] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Handler serves the registry in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.Registry, promhttp.HandlerOpts{})
}
