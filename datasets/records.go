package datasets

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"sort"

	"github.com/parquet-go/parquet-go"

	"github.com/dagproject/dag/errdefs"
)

// record is one source record as JSON decodes it: objects are
// map[string]any, numbers json.Number (so they re-encode as written).
type record = map[string]any

// eachRecord calls fn for every record of a source in order. pos names the
// record for messages ("line 3" for JSON Lines, "element 2" for a JSON
// array, "row 7" for Parquet); a record that is not an object comes with a
// problem and a nil rec. Blank lines are not records. A source that cannot
// be read as its format at all is InvalidArgument; fn's error stops the
// walk and is returned.
func eachRecord(ctx context.Context, r io.Reader, format string, fn func(pos string, rec record, problem string) error) error {
	switch format {
	case "jsonl":
		return eachLine(r, fn)
	case "json":
		return eachElement(r, fn)
	case "parquet":
		return eachRow(ctx, r, fn)
	}
	return fmt.Errorf("format %s has no records (use jsonl, json or parquet): %w", format, errdefs.ErrInvalidArgument)
}

func decodeObject(b []byte) (record, string) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Sprintf("not a JSON object: %v", err)
	}
	if dec.More() {
		return nil, "not a JSON object: more than one value on the line"
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, "not a JSON object"
	}
	return obj, ""
}

func eachLine(r io.Reader, fn func(string, record, string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		rec, problem := decodeObject(b)
		if err := fn(fmt.Sprintf("line %d", line), rec, problem); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %v: %w", line+1, err, errdefs.ErrInvalidArgument)
	}
	return nil
}

func eachElement(r io.Reader, fn func(string, record, string) error) error {
	dec := json.NewDecoder(bufio.NewReader(r))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return fmt.Errorf("not a JSON array of records: %w", errdefs.ErrInvalidArgument)
	}
	for i := 1; dec.More(); i++ {
		var v any
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("element %d: %v: %w", i, err, errdefs.ErrInvalidArgument)
		}
		obj, ok := v.(map[string]any)
		problem := ""
		if !ok {
			problem = "not a JSON object"
		}
		if err := fn(fmt.Sprintf("element %d", i), obj, problem); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("JSON array: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("more than one JSON value (use format: jsonl): %w", errdefs.ErrInvalidArgument)
	}
	return nil
}

// eachRow reads a Parquet file row by row. Parquet needs random access, so
// the stream is spooled to a temporary file first (removed on return).
// Each row is re-encoded through JSON so it becomes the same record a JSON
// Lines source of the same data gives.
func eachRow(ctx context.Context, r io.Reader, fn func(string, record, string) error) error {
	f, err := os.CreateTemp("", "dag-parquet-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	size, err := io.Copy(f, r)
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(f, size)
	if err != nil {
		return fmt.Errorf("not a Parquet file: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	pr := parquet.NewGenericReader[any](pf)
	defer pr.Close()
	rows := make([]any, 256)
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		k, err := pr.Read(rows)
		for _, row := range rows[:k] {
			n++
			rec, problem := rowRecord(row)
			if err := fn(fmt.Sprintf("row %d", n), rec, problem); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("parquet row %d: %v: %w", n+1, err, errdefs.ErrInvalidArgument)
		}
	}
}

func rowRecord(row any) (record, string) {
	b, err := json.Marshal(row)
	if err != nil {
		return nil, fmt.Sprintf("cannot encode the row as JSON: %v", err)
	}
	return decodeObject(b)
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
