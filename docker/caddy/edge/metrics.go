package edge

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DurationBuckets are the request-duration histogram's bounds, in seconds: the API's own (so one
// latency threshold reads both), with a 2 s bound.
var DurationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10}

// methods are the `method` label's values; anything else is OTHER (bounded cardinality).
var methods = [...]string{"OTHER", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}

func methodIndex(m string) int {
	for i := 1; i < len(methods); i++ {
		if methods[i] == m {
			return i
		}
	}
	return 0
}

type edgeMetrics struct {
	inFlight prometheus.Gauge
	duration *prometheus.HistogramVec
	// (status, method) -> its histogram child, resolved once: the per-request cost is one map
	// read and the histogram's atomic adds, not a label-map hash per request.
	children sync.Map
}

func registerMetrics(reg *prometheus.Registry) (*edgeMetrics, error) {
	m := &edgeMetrics{
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "slipway_gateway_requests_in_flight",
			Help: "Requests the gateway's edge is handling now.",
		}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "slipway_gateway_request_duration_seconds",
			Help:    "Time from the request's arrival at the edge to its response's last byte, by status code and method; its _count counts requests.",
			Buckets: DurationBuckets,
		}, []string{"code", "method"}),
	}
	// Several edge instances in one config (two servers) share the collectors.
	if err := reg.Register(m.inFlight); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, err
		}
		m.inFlight = are.ExistingCollector.(prometheus.Gauge)
	}
	if err := reg.Register(m.duration); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, err
		}
		m.duration = are.ExistingCollector.(*prometheus.HistogramVec)
	}
	return m, nil
}

func (m *edgeMetrics) observe(status int, method string, d time.Duration) {
	if status < 0 || status > 999 {
		status = 0
	}
	mi := methodIndex(method)
	key := uint32(status)<<4 | uint32(mi)
	if o, ok := m.children.Load(key); ok {
		o.(prometheus.Observer).Observe(d.Seconds())
		return
	}
	o := m.duration.WithLabelValues(strconv.Itoa(status), methods[mi])
	m.children.Store(key, o)
	o.Observe(d.Seconds())
}
