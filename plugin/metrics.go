package main

import (
	"github.com/eventroute/eventroute/filters"
	"github.com/eventroute/eventroute/filters/event"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
)

// counter is a proxy-wasm counter that is never incremented by 0 (the host
// answers BadArgument). Increments never trap the VM (see incrementMetric).
type counter proxywasm.MetricCounter

// add increments the counter by n when n > 0.
func (c counter) add(n int) {
	if n > 0 {
		incrementMetric(uint32(c), uint64(n))
	}
}

// inc increments the counter by one.
func (c counter) inc() { incrementMetric(uint32(c), 1) }

func defineCounter(name string) counter { return counter(proxywasm.DefineCounterMetric(name)) }

// histogram is a proxy-wasm histogram; it is only recorded, never read.
type histogram proxywasm.MetricHistogram

// record adds one sample.
func (h histogram) record(v uint64) { recordMetric(uint32(h), v) }

// metrics are the plugin-wide counters of SPEC §3.4, defined once per
// configuration (names come from the configuration).
type metrics struct {
	requests        counter
	events          [event.ModeJSON + 1]counter // indexed by event.Mode; ModeNone unused
	invalid         counter
	bodyTooLarge    counter
	routeConflict   counter
	needsHold       counter
	holdTimeout     counter
	spoofed         counter
	loopSuppressed  counter
	publisherDenied counter
	routeMatched    []counter // per route, config order
	mirrorMatched   []counter // per mirror, config order
}

const metricPrefix = "eventroute."

func defineMetrics(cfg *filters.Config) *metrics {
	m := &metrics{
		requests:        defineCounter(metricPrefix + "requests"),
		invalid:         defineCounter(metricPrefix + "events.invalid"),
		bodyTooLarge:    defineCounter(metricPrefix + "body_too_large"),
		routeConflict:   defineCounter(metricPrefix + "route.conflict"),
		needsHold:       defineCounter(metricPrefix + "route.needs_hold"),
		holdTimeout:     defineCounter(metricPrefix + "route.hold_timeout"),
		spoofed:         defineCounter(metricPrefix + "spoofed_header_removed"),
		loopSuppressed:  defineCounter(metricPrefix + "loop_suppressed"),
		publisherDenied: defineCounter(metricPrefix + "publisher_denied"),
	}
	for mode := event.ModeBinary; mode <= event.ModeJSON; mode++ {
		m.events[mode] = defineCounter(metricPrefix + "events." + mode.String())
	}
	m.routeMatched = make([]counter, len(cfg.Routes))
	for i := range cfg.Routes {
		m.routeMatched[i] = defineCounter(metricPrefix + "route." + cfg.Routes[i].Name + ".matched")
	}
	m.mirrorMatched = make([]counter, len(cfg.Mirrors))
	for i := range cfg.Mirrors {
		m.mirrorMatched[i] = defineCounter(metricPrefix + "mirror." + cfg.Mirrors[i].Name + ".matched")
	}
	return m
}

// subscriberMetrics are the per-subscriber delivery metrics. Invariant once
// nothing is pending: sent = delivered + deadLettered + dropped.
type subscriberMetrics struct {
	sent         counter // deliveries scheduled (admitted or not)
	delivered    counter // deliveries that ended in a 2xx
	failed       counter // failed attempts (each one)
	retried      counter // retries scheduled
	deadLettered counter // deliveries handed to the dead-letter subscriber
	dropped      counter // deliveries given up without a dead-letter subscriber, or refused by the bounds
	latencyMs    histogram
}

func defineSubscriberMetrics(name string) subscriberMetrics {
	p := metricPrefix + "subscriber." + name + "."
	return subscriberMetrics{
		sent:         defineCounter(p + "sent"),
		delivered:    defineCounter(p + "delivered"),
		failed:       defineCounter(p + "failed"),
		retried:      defineCounter(p + "retried"),
		deadLettered: defineCounter(p + "dead_lettered"),
		dropped:      defineCounter(p + "dropped"),
		latencyMs:    histogram(proxywasm.DefineHistogramMetric(p + "latency_ms")),
	}
}
