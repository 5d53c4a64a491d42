package artifacts_test

import (
	"strings"
	"testing"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
)

func TestValidRecordName(t *testing.T) {
	for _, ok := range []string{
		"a", "results/sha256/abc", "refs/study:x/node@1=2+3", "a.b", "..a", "a..", "...", "-_.:+@=~", "dpo/orca+hh~6f6d6a",
		"A/B/C0", strings.Repeat("x", 300),
	} {
		if err := artifacts.ValidRecordName(ok); err != nil {
			t.Errorf("ValidRecordName(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{
		"", "/", "/a", "a/", "a//b", ".", "..", "a/.", "./a", "a/../b", "a b", "a\tb", "a\\b", "a*", "a?",
		"é", "a\x00", "a%2F", "a#b", "a,b",
	} {
		err := artifacts.ValidRecordName(bad)
		if !errdefs.IsInvalidArgument(err) {
			t.Errorf("ValidRecordName(%q) = %v, want InvalidArgument", bad, err)
		}
	}
}
