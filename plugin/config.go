package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/eventroute/eventroute/filters"
)

// errEmptyConfig is returned for a missing or empty pluginConfig.
var errEmptyConfig = errors.New(`empty configuration: pluginConfig needs "subscribers" and at least one of "routes" or "mirrors"`)

// settings is one compiled configuration and everything derived from it. It
// is immutable once built; a reconfiguration builds a new one, and streams
// and deliveries keep the one they started with.
type settings struct {
	router      *filters.Router
	cfg         *filters.Config
	metrics     *metrics
	subscribers []*subscriber // indexed like cfg.Subscribers
	// probePath: a JSON profile exists, so classification needs :path.
	probePath bool
	// hasPublishers: some publisher rule exists, so the peer identity is read.
	hasPublishers bool
	// holdTimeout is cfg.Limits.HoldTimeout.
	holdTimeout time.Duration
}

// subscriber is a configured subscriber with its metrics.
type subscriber struct {
	filters.Subscriber
	metrics     subscriberMetrics
	deadLetter  *subscriber // nil without a deadLetter
	timeoutMs   uint32
	loggedDrops uint8 // bit 1<<DropReason set once that drop was logged
}

// loadSettings compiles a pluginConfig and defines its metrics.
func loadSettings(config []byte) (*settings, error) {
	if len(config) == 0 {
		return nil, errEmptyConfig
	}
	router, err := filters.Compile(config)
	if err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	cfg := router.Config()
	s := &settings{
		router:        router,
		cfg:           cfg,
		metrics:       defineMetrics(cfg),
		subscribers:   make([]*subscriber, len(cfg.Subscribers)),
		probePath:     len(cfg.Recognize.JSON) > 0,
		hasPublishers: len(cfg.Publishers) > 0,
		holdTimeout:   cfg.Limits.HoldTimeout,
	}
	for i := range cfg.Subscribers {
		sub := &subscriber{Subscriber: cfg.Subscribers[i], metrics: defineSubscriberMetrics(cfg.Subscribers[i].Name)}
		ms := sub.Timeout.Milliseconds()
		if ms > int64(^uint32(0)) {
			ms = int64(^uint32(0))
		}
		sub.timeoutMs = uint32(ms)
		s.subscribers[i] = sub
	}
	for i, sub := range s.subscribers {
		if dl := cfg.Subscribers[i].DeadLetter; dl >= 0 && dl < len(s.subscribers) {
			sub.deadLetter = s.subscribers[dl]
		}
	}
	return s, nil
}
