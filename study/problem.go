package study

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dagproject/dag/errdefs"
)

// Pos is a 1-based line and column in the study file.
type Pos struct{ Line, Col int }

// positions maps a field path ("datasets.orca.source") to where its value
// was written, so later passes can report problems at the right spot.
type positions map[string]Pos

// Problem is one thing wrong with a study.
type Problem struct {
	File string
	Pos  Pos
	Path string // field path such as pipelines.sft-orca.steps[0].sft; empty for the whole file
	Msg  string
}

func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Pos.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Pos.Line, p.Pos.Col)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error is every problem found in one validation pass. It is of class
// errdefs.ErrInvalidArgument.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap makes errdefs.IsInvalidArgument true for study errors.
func (e *Error) Unwrap() error { return errdefs.ErrInvalidArgument }

// problems collects Problems in file order.
type problems struct {
	file string
	list []Problem
}

func (ps *problems) add(pos Pos, path, format string, args ...any) {
	ps.list = append(ps.list, Problem{File: ps.file, Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// err returns nil or an *Error with the problems sorted by position.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	sort.SliceStable(ps.list, func(i, j int) bool {
		a, b := ps.list[i].Pos, ps.list[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return &Error{Problems: ps.list}
}
