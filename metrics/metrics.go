// Package metrics exports Sluice's counters to Prometheus. The hot paths
// only bump atomic counters in their own packages; this collector reads them
// at scrape time, so serving requests never touches the Prometheus client.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluicehq/sluice/room"
)

// Sources are where the collector reads from.
type Sources struct {
	Rooms *room.Manager
	// GateRejections returns rejections by room and reason.
	GateRejections func() map[string]map[string]uint64
}

type collector struct {
	src                                                        Sources
	joins, admissions, leaves, expired, active, waiting, state *prometheus.Desc
	capacity, rate, measured, rejections                       *prometheus.Desc
}

func newCollector(src Sources) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("sluice_"+name, help, append([]string{"room"}, labels...), nil)
	}
	return &collector{
		src:        src,
		joins:      d("joins_total", "Tickets issued."),
		admissions: d("admissions_total", "People admitted (the serving number advanced)."),
		leaves:     d("leaves_total", "Passes returned through /leave."),
		expired:    d("sessions_expired_total", "Admitted sessions that ended by expiry (unclaimed or pass lifetime over)."),
		active:     d("active_sessions", "Admitted sessions active now (never above capacity)."),
		waiting:    d("queue_length", "People in line not yet admitted."),
		state:      d("room_state", "1 for the room's current state.", "state"),
		capacity:   d("capacity", "Configured capacity (max active sessions)."),
		rate:       d("admission_rate_limit", "Configured max admissions per second."),
		measured:   d("admission_rate", "Measured admissions per second used for ETAs."),
		rejections: d("gate_rejections_total", "Requests rejected by the gate, by reason.", "reason"),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.joins, c.admissions, c.leaves, c.expired, c.active, c.waiting, c.state, c.capacity, c.rate, c.measured, c.rejections} {
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
		ch <- prometheus.MustNewConstMetric(c.active, prometheus.GaugeValue, float64(k.Active), n)
		ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(k.Waiting), n)
		ch <- prometheus.MustNewConstMetric(c.capacity, prometheus.GaugeValue, float64(k.Settings.Capacity), n)
		ch <- prometheus.MustNewConstMetric(c.rate, prometheus.GaugeValue, k.Settings.Rate, n)
		ch <- prometheus.MustNewConstMetric(c.measured, prometheus.GaugeValue, k.AdmitRate, n)
		for _, s := range states {
			v := 0.0
			if k.State == s {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, v, n, string(s))
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

// Registry is a Prometheus registry with Sluice's collectors and the Go
// runtime's.
type Registry struct{ *prometheus.Registry }

// New builds the registry.
func New(src Sources) *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCollector(src), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Registry{reg}
}

// Handler serves the registry in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.Registry, promhttp.HandlerOpts{})
}
