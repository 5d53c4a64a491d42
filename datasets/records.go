package datasets

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"sort"

	"github.com/dagproject/dag/errdefs"
)

// normalizer reads JSON Lines and rewrites each record with only the named
// string fields, keys sorted, one per line. Formatting, field order and
// extra fields of the source do not reach the output, so a cosmetic edit
// of a dataset leaves the prepared data (and every key downstream) as it
// was. With no fields named it only checks that each line is an object.
type normalizer struct {
	required []string
	optional []string
}

func (nz *normalizer) normalize(r io.Reader) ([]byte, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	var out bytes.Buffer
	var bad []string
	nbad, records, line := 0, 0, 0
	reject := func(format string, args ...any) {
		nbad++
		if len(bad) < maxBadRecords {
			bad = append(bad, fmt.Sprintf("line %d: ", line)+fmt.Sprintf(format, args...))
		}
	}
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(b, &obj); err != nil {
			reject("not a JSON object: %v", err)
			continue
		}
		if nz.required == nil {
			records++
			continue
		}
		rec, problem := nz.pick(obj)
		if problem != "" {
			reject("%s", problem)
			continue
		}
		enc, _ := json.Marshal(rec) // map keys come out sorted
		out.Write(enc)
		out.WriteByte('\n')
		records++
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %v: %w", line+1, err, errdefs.ErrInvalidArgument)
	}
	if nbad > 0 {
		return nil, fmt.Errorf("%d of %d records are unusable (%s): %w", nbad, nbad+records, joinSemi(bad), errdefs.ErrInvalidArgument)
	}
	if records == 0 {
		return nil, fmt.Errorf("no records: %w", errdefs.ErrInvalidArgument)
	}
	return out.Bytes(), nil
}

func (nz *normalizer) pick(obj map[string]json.RawMessage) (map[string]string, string) {
	rec := map[string]string{}
	for i, name := range append(append([]string{}, nz.required...), nz.optional...) {
		raw, ok := obj[name]
		if !ok || string(raw) == "null" {
			if i < len(nz.required) {
				return nil, fmt.Sprintf("missing field %q", name)
			}
			continue
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Sprintf("field %q is not a string", name)
		}
		if s == "" && i < len(nz.required) && name != "response" {
			return nil, fmt.Sprintf("field %q is empty", name)
		}
		rec[name] = s
	}
	return rec, ""
}

// sampleLines keeps n lines chosen with seed, in their original order.
func sampleLines(data []byte, n, seed int) []byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	if n <= 0 || n >= len(lines) {
		return data
	}
	idx := rand.New(rand.NewSource(int64(seed))).Perm(len(lines))[:n]
	sort.Ints(idx)
	var out bytes.Buffer
	for _, i := range idx {
		out.Write(lines[i])
	}
	return out.Bytes()
}
