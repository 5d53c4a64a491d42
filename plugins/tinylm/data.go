package tinylm

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
)

// The files a data folder holds: a pretrain corpus or normalized records.
const (
	corpusFile  = "data.txt"
	recordsFile = "data.jsonl"
)

// sftRecord and dpoRecord are the normalized record shapes of data.jsonl.
type sftRecord struct {
	System   string  `json:"system"`
	Prompt   *string `json:"prompt"`
	Response *string `json:"response"`
}

type dpoRecord struct {
	Prompt   *string `json:"prompt"`
	Chosen   *string `json:"chosen"`
	Rejected *string `json:"rejected"`
}

// dataset is a stage's training data.
type dataset struct {
	digest string      // sha256 of the file read
	corpus []byte      // pretrain
	sft    []sftRecord // sft
	dpo    []dpoRecord // dpo
}

// readData reads the data folder for kind: data.txt for pretrain,
// data.jsonl for sft and dpo. A missing file is NotFound; a file of the
// wrong kind or a malformed record is InvalidArgument naming the file and
// line.
func readData(dir string, kind plugins.Kind) (*dataset, error) {
	if dir == "" {
		return nil, fmt.Errorf("train %s: no data input: %w", kind, errdefs.ErrInvalidArgument)
	}
	want := recordsFile
	if kind == plugins.KindPretrain {
		want = corpusFile
	}
	path := filepath.Join(dir, want)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		other := corpusFile
		if want == corpusFile {
			other = recordsFile
		}
		if _, err := os.Stat(filepath.Join(dir, other)); err == nil {
			return nil, fmt.Errorf("data %s: %s needs %s, found %s: %w", dir, kind, want, other, errdefs.ErrInvalidArgument)
		}
		return nil, fmt.Errorf("data %s: no %s: %w", dir, want, errdefs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("data %s: %w", path, err)
	}
	sum := sha256.Sum256(b)
	ds := &dataset{digest: "sha256:" + hex.EncodeToString(sum[:])}
	if kind == plugins.KindPretrain {
		if len(bytes.TrimSpace(b)) == 0 {
			return nil, fmt.Errorf("data %s: empty corpus: %w", path, errdefs.ErrInvalidArgument)
		}
		ds.corpus = b
		return ds, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Bytes()
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		bad := func(format string, a ...any) error {
			return fmt.Errorf("data %s line %d: "+format+": %w", append(append([]any{path, line}, a...), errdefs.ErrInvalidArgument)...)
		}
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if kind == plugins.KindSFT {
			var r sftRecord
			if err := dec.Decode(&r); err != nil {
				return nil, bad("not an sft record {prompt, response[, system]}: %v", err)
			}
			if r.Prompt == nil || r.Response == nil {
				return nil, bad("an sft record needs prompt and response")
			}
			ds.sft = append(ds.sft, r)
		} else {
			var r dpoRecord
			if err := dec.Decode(&r); err != nil {
				return nil, bad("not a dpo record {prompt, chosen, rejected}: %v", err)
			}
			if r.Prompt == nil || r.Chosen == nil || r.Rejected == nil {
				return nil, bad("a dpo record needs prompt, chosen and rejected")
			}
			ds.dpo = append(ds.dpo, r)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("data %s: %v: %w", path, err, errdefs.ErrInvalidArgument)
	}
	if len(ds.sft)+len(ds.dpo) == 0 {
		return nil, fmt.Errorf("data %s: no records: %w", path, errdefs.ErrInvalidArgument)
	}
	return ds, nil
}

// renderPrompt applies the prompt template: {prompt} is replaced by the
// prompt and {system} by the system message; a system message with no
// {system} in the template goes first, followed by a blank line.
func renderPrompt(template, system, prompt string) string {
	s := strings.ReplaceAll(template, "{prompt}", prompt)
	if strings.Contains(template, "{system}") {
		return strings.ReplaceAll(s, "{system}", system)
	}
	if system != "" {
		return system + "\n\n" + s
	}
	return s
}

// corpusTokens turns a corpus into one token stream: each non-empty line
// becomes BOS, its bytes and a newline.
func corpusTokens(corpus []byte) []int32 {
	var out []int32
	for line := range bytes.SplitSeq(corpus, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		out = append(out, BOS)
		for _, c := range line {
			out = append(out, int32(c))
		}
		out = append(out, '\n')
	}
	return out
}
