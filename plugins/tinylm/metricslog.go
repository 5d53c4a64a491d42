package tinylm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
)

// metricsLog is the training log (plugins.MetricsFile): one JSON line
// per optimiser step, whatever log_every says, so the file depends only
// on what the run computes. Checkpoints carry it, so a resumed run's log
// holds every step.
type metricsLog struct {
	buf bytes.Buffer
}

// add appends step's metrics; values that are not finite are left out
// (JSON has no NaN).
func (l *metricsLog) add(step int, m map[string]float64) {
	rec := map[string]any{"step": step}
	for k, v := range m {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			rec[k] = v
		}
	}
	b, _ := json.Marshal(rec) // maps of numbers always marshal
	l.buf.Write(b)
	l.buf.WriteByte('\n')
}

// write writes the log into dir.
func (l *metricsLog) write(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, plugins.MetricsFile), l.buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("training log: %w", err)
	}
	return nil
}

// readMetricsLog reads a checkpoint's log, keeping the steps up to upTo.
// A checkpoint without one gives an empty log; a malformed one is
// DataLoss.
func readMetricsLog(dir string, upTo int) (*metricsLog, error) {
	l := &metricsLog{}
	b, err := os.ReadFile(filepath.Join(dir, plugins.MetricsFile))
	if errors.Is(err, os.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var rec struct {
			Step *int `json:"step"`
		}
		if err := json.Unmarshal(line, &rec); err != nil || rec.Step == nil {
			return nil, fmt.Errorf("checkpoint %s: %s: a line without a step: %w", dir, plugins.MetricsFile, errdefs.ErrDataLoss)
		}
		if *rec.Step <= upTo {
			l.buf.Write(line)
			l.buf.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %s: %v: %w", dir, plugins.MetricsFile, err, errdefs.ErrDataLoss)
	}
	return l, nil
}
