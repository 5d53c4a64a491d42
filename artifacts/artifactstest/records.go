package artifactstest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
)

func walkRecords(t *testing.T, s artifacts.Records, prefix string) []string {
	t.Helper()
	var names []string
	noErr(t, s.WalkRecords(context.Background(), prefix, func(name string) error {
		names = append(names, name)
		return nil
	}))
	return names
}

func wantNames(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("WalkRecords = %q, want %q", got, want)
	}
}

func testRecords(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Store
	wantNames(t, walkRecords(t, s, ""))
	_, err := s.GetRecord(ctx, "results/none")
	wantErr(t, err, isNotFound, "NotFound")
	wantErr(t, s.DeleteRecord(ctx, "results/none"), isNotFound, "NotFound")

	docs := map[string][]byte{
		"a.b":                     []byte("dot"),
		"a/c":                     []byte("c"),
		"a/d/e":                   {},
		"refs/study:x/node@1=2+3": []byte("odd but valid"),
		"z-last_1":                randBytes(1000, 10000),
	}
	for name, b := range docs {
		noErr(t, s.PutRecord(ctx, name, b))
	}
	for name, b := range docs {
		got, err := s.GetRecord(ctx, name)
		noErr(t, err)
		if !bytes.Equal(got, b) {
			t.Fatalf("GetRecord(%s) = %q, want %q", name, got, b)
		}
	}
	wantNames(t, walkRecords(t, s, ""), "a.b", "a/c", "a/d/e", "refs/study:x/node@1=2+3", "z-last_1")
	wantNames(t, walkRecords(t, s, "a/"), "a/c", "a/d/e")
	wantNames(t, walkRecords(t, s, "a"), "a.b", "a/c", "a/d/e")
	wantNames(t, walkRecords(t, s, "refs/"), "refs/study:x/node@1=2+3")
	wantNames(t, walkRecords(t, s, "nothing/"))

	stop := errors.New("stop")
	calls := 0
	err = s.WalkRecords(ctx, "", func(string) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("WalkRecords with a failing fn = %v after %d calls, want stop after 1", err, calls)
	}

	// Replace.
	noErr(t, s.PutRecord(ctx, "a/c", []byte("replaced")))
	got, err := s.GetRecord(ctx, "a/c")
	noErr(t, err)
	if string(got) != "replaced" {
		t.Fatalf("GetRecord after replace = %q", got)
	}

	// Delete.
	noErr(t, s.DeleteRecord(ctx, "a/c"))
	_, err = s.GetRecord(ctx, "a/c")
	wantErr(t, err, isNotFound, "NotFound")
	wantErr(t, s.DeleteRecord(ctx, "a/c"), isNotFound, "NotFound")
	wantNames(t, walkRecords(t, s, "a/"), "a/d/e")

	// Invalid names never reach storage.
	for _, bad := range []string{"", "/a", "a/", "a//b", "..", "../x", "a/./b", "a/../b", "a b", "a\\b", "é", "a\x00"} {
		_, err := s.GetRecord(ctx, bad)
		wantErr(t, err, isInvalidArgument, "InvalidArgument")
		wantErr(t, s.PutRecord(ctx, bad, []byte("x")), isInvalidArgument, "InvalidArgument")
		wantErr(t, s.DeleteRecord(ctx, bad), isInvalidArgument, "InvalidArgument")
	}
	// Blobs and records are separate spaces.
	wantBlobs(t, s)
}

func testRefs(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Store
	_, err := artifacts.GetRef(ctx, s, "study/node")
	wantErr(t, err, isNotFound, "NotFound")
	k1, k2 := digest.FromString("k1"), digest.FromString("k2")
	noErr(t, artifacts.SetRef(ctx, s, "study/node", k1))
	got, err := artifacts.GetRef(ctx, s, "study/node")
	noErr(t, err)
	if got != k1 {
		t.Fatalf("GetRef = %s, want %s", got, k1)
	}
	noErr(t, artifacts.SetRef(ctx, s, "study/node", k2))
	got, err = artifacts.GetRef(ctx, s, "study/node")
	noErr(t, err)
	if got != k2 {
		t.Fatalf("GetRef after replace = %s, want %s", got, k2)
	}
	wantNames(t, walkRecords(t, s, "refs/"), "refs/study/node")

	wantErr(t, artifacts.SetRef(ctx, s, "../escape", k1), isInvalidArgument, "InvalidArgument")
	wantErr(t, artifacts.SetRef(ctx, s, "ok", "sha256:bad"), isInvalidArgument, "InvalidArgument")
	_, err = artifacts.GetRef(ctx, s, "/abs")
	wantErr(t, err, isInvalidArgument, "InvalidArgument")

	// A ref whose record was damaged is DataLoss.
	noErr(t, s.PutRecord(ctx, "refs/damaged", []byte("not a digest")))
	_, err = artifacts.GetRef(ctx, s, "damaged")
	wantErr(t, err, isDataLoss, "DataLoss")
}
