package telemetrytest

import (
	"context"
	"net"
	"sync"
	"testing"

	metricsv1 "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	tracev1 "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
)

// Collector is an OTLP/gRPC receiver for traces and metrics on a loopback
// port, stopped when the test ends.
type Collector struct {
	// Endpoint is the receiver's URL, a value for
	// OTEL_EXPORTER_OTLP_ENDPOINT (plain gRPC, no TLS).
	Endpoint string

	mu      sync.Mutex
	spans   []Span
	metrics int
}

// Span is one received span with the service.name of the resource that
// sent it.
type Span struct {
	Service string
	*tracepb.Span
}

// StartCollector starts a Collector.
func StartCollector(t testing.TB) *Collector {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &Collector{Endpoint: "http://" + ln.Addr().String()}
	srv := grpc.NewServer()
	tracev1.RegisterTraceServiceServer(srv, traceService{c: c})
	metricsv1.RegisterMetricsServiceServer(srv, metricsService{c: c})
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	return c
}

// Spans returns a copy of the spans received so far.
func (c *Collector) Spans() []Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Span(nil), c.spans...)
}

// MetricRequests is how many metric exports arrived.
func (c *Collector) MetricRequests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.metrics
}

type traceService struct {
	tracev1.UnimplementedTraceServiceServer
	c *Collector
}

func (s traceService) Export(_ context.Context, req *tracev1.ExportTraceServiceRequest) (*tracev1.ExportTraceServiceResponse, error) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				s.c.spans = append(s.c.spans, Span{Service: service, Span: sp})
			}
		}
	}
	return &tracev1.ExportTraceServiceResponse{}, nil
}

type metricsService struct {
	metricsv1.UnimplementedMetricsServiceServer
	c *Collector
}

func (s metricsService) Export(context.Context, *metricsv1.ExportMetricsServiceRequest) (*metricsv1.ExportMetricsServiceResponse, error) {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.c.metrics++
	return &metricsv1.ExportMetricsServiceResponse{}, nil
}
