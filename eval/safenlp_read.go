package eval

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
)

// sentenceRecord is the JSON form of a Sentence; perplexity may be null
// or absent (NaN).
type sentenceRecord struct {
	ID            int      `json:"id"`
	Text          string   `json:"text"`
	ToxicityScore float64  `json:"toxicity_score"`
	Label         string   `json:"label"`
	TargetGroups  []string `json:"target_groups"`
	Perplexity    *float64 `json:"perplexity"`
}

// ReadSentences reads SafeNLP items: a JSON array (SafeNLP's toxiGen.json
// or perplexities.json) or JSON lines of the same objects. Python's bare
// NaN and Infinity literals are accepted; a missing or NaN perplexity is
// NaN. Malformed input is InvalidArgument.
func ReadSentences(r io.Reader) ([]Sentence, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	b = pythonLiterals(b)
	dec := json.NewDecoder(bytes.NewReader(b))
	var out []Sentence
	add := func(rec sentenceRecord) {
		s := Sentence{ID: rec.ID, Text: rec.Text, ToxicityScore: rec.ToxicityScore, Label: rec.Label,
			TargetGroups: rec.TargetGroups, Perplexity: math.NaN()}
		if rec.Perplexity != nil {
			s.Perplexity = *rec.Perplexity
		}
		out = append(out, s)
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
		var recs []sentenceRecord
		if err := dec.Decode(&recs); err != nil {
			return nil, invalid("safenlp sentences: %v", err)
		}
		for _, rec := range recs {
			add(rec)
		}
		return out, nil
	}
	for {
		var rec sentenceRecord
		if err := dec.Decode(&rec); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, invalid("safenlp sentence %d: %v", len(out)+1, err)
		}
		add(rec)
	}
}

// pythonLiterals replaces the bare NaN, Infinity and -Infinity that
// Python's json module writes with null, outside strings.
func pythonLiterals(b []byte) []byte {
	if !bytes.Contains(b, []byte("NaN")) && !bytes.Contains(b, []byte("Infinity")) {
		return b
	}
	var out bytes.Buffer
	inStr, esc := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			out.WriteByte(c)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch {
		case c == '"':
			inStr = true
		case bytes.HasPrefix(b[i:], []byte("NaN")):
			out.WriteString("null")
			i += 2
			continue
		case bytes.HasPrefix(b[i:], []byte("-Infinity")):
			out.WriteString("null")
			i += 8
			continue
		case bytes.HasPrefix(b[i:], []byte("Infinity")):
			out.WriteString("null")
			i += 7
			continue
		}
		out.WriteByte(c)
	}
	return out.Bytes()
}

// ReadPerplexityCSV reads the CSV form `id,label,toxicity_score,perplexity,
// target_groups` (a header row naming the columns, in any order; groups
// separated by '|'; a perplexity of nan is NaN). Malformed input is
// InvalidArgument.
func ReadPerplexityCSV(r io.Reader) ([]Sentence, error) {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, invalid("perplexity csv: header: %v", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(h)] = i
	}
	for _, need := range []string{"label", "toxicity_score", "perplexity", "target_groups"} {
		if _, ok := col[need]; !ok {
			return nil, invalid("perplexity csv: no %s column", need)
		}
	}
	var out []Sentence
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, invalid("perplexity csv: %v", err)
		}
		var s Sentence
		if i, ok := col["id"]; ok {
			if s.ID, err = strconv.Atoi(rec[i]); err != nil {
				return nil, invalid("perplexity csv line %d: id %q", line, rec[i])
			}
		}
		s.Label = rec[col["label"]]
		if s.ToxicityScore, err = strconv.ParseFloat(rec[col["toxicity_score"]], 64); err != nil {
			return nil, invalid("perplexity csv line %d: toxicity_score %q", line, rec[col["toxicity_score"]])
		}
		if s.Perplexity, err = strconv.ParseFloat(rec[col["perplexity"]], 64); err != nil {
			return nil, invalid("perplexity csv line %d: perplexity %q", line, rec[col["perplexity"]])
		}
		if g := rec[col["target_groups"]]; g != "" {
			s.TargetGroups = strings.Split(g, "|")
		}
		out = append(out, s)
	}
}

// ReadPerplexities reads either form: CSV when the first non-space byte
// is not '[' or '{'.
func ReadPerplexities(r io.Reader) ([]Sentence, error) {
	br := bufio.NewReader(r)
	for {
		c, err := br.Peek(1)
		if err != nil {
			return nil, invalid("perplexities: empty input")
		}
		switch c[0] {
		case ' ', '\t', '\r', '\n':
			br.ReadByte()
			continue
		case '[', '{':
			return ReadSentences(br)
		}
		return ReadPerplexityCSV(br)
	}
}
