package tinylm

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
)

// A checkpoint folder holds everything needed to continue a run:
//
//	config.json, tokenizer.json  as in a model folder
//	model.safetensors            every weight of the run: the base (frozen
//	                             for sft and dpo) and the LoRA adapters
//	                             (<module>.lora_a, <module>.lora_b), unmerged
//	optimizer.safetensors        AdamW moments adam.m.<name>, adam.v.<name>
//	state.json                   checkpointState
//	metrics.jsonl                the training log up to this step
//
// Checkpoints are written as .step-<n>.tmp and renamed to step-<n> once
// complete.
const (
	optimizerFile = "optimizer.safetensors"
	stateFile     = "state.json"
)

// checkpointState is state.json. The data order is a function of the
// seed and the step (see sampler), so Step is also the data position;
// Epoch and BatchInEpoch restate it for people.
type checkpointState struct {
	Format       string       `json:"format"`
	Kind         plugins.Kind `json:"kind"`
	Step         int          `json:"step"`
	TotalSteps   int          `json:"total_steps"`
	Epoch        int          `json:"epoch"`
	BatchInEpoch int          `json:"batch_in_epoch"`
	// Fingerprint identifies the run: kind, params without execution-only
	// fields, data digest and parent model digest. Resuming requires the
	// same one.
	Fingerprint string `json:"fingerprint"`
}

const checkpointFormat = "tinylm-checkpoint/1"

// writeCheckpoint writes a complete checkpoint folder under root and
// returns its path.
func writeCheckpoint(root string, st checkpointState, c Config, weights, opt Weights, log *metricsLog) (string, error) {
	name := fmt.Sprintf("step-%06d", st.Step)
	final := filepath.Join(root, name)
	tmp := filepath.Join(root, "."+name+".tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return "", err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", tmp, err)
	}
	if err := writeModel(tmp, c, weights); err != nil {
		return "", err
	}
	if err := writeSafetensors(filepath.Join(tmp, optimizerFile), opt); err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", tmp, err)
	}
	if err := log.write(tmp); err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", tmp, err)
	}
	st.Format = checkpointFormat
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := os.WriteFile(filepath.Join(tmp, stateFile), append(b, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", tmp, err)
	}
	if err := os.RemoveAll(final); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("checkpoint %s: %w", final, err)
	}
	return final, nil
}

// readCheckpoint reads a checkpoint folder. A missing folder or file is
// NotFound; one of another format FailedPrecondition; unreadable tensors
// DataLoss.
func readCheckpoint(dir string) (checkpointState, Config, Weights, Weights, error) {
	var st checkpointState
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return st, Config{}, nil, nil, fmt.Errorf("checkpoint %s: no %s: %w", dir, stateFile, errdefs.ErrNotFound)
	}
	if err != nil {
		return st, Config{}, nil, nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if err := json.Unmarshal(b, &st); err != nil || st.Format != checkpointFormat {
		return st, Config{}, nil, nil, fmt.Errorf("checkpoint %s: not a %s state.json: %w", dir, checkpointFormat, errdefs.ErrFailedPrecondition)
	}
	c, err := readConfig(dir)
	if err != nil {
		return st, c, nil, nil, fmt.Errorf("checkpoint: %w", err)
	}
	w, err := readSafetensors(filepath.Join(dir, weightsFile))
	if err != nil {
		return st, c, nil, nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	opt, err := readSafetensors(filepath.Join(dir, optimizerFile))
	if err != nil {
		return st, c, nil, nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	return st, c, w, opt, nil
}
