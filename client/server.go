package client

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"time"

	tclient "go.temporal.io/sdk/client"
)

// ServerFile is <home>/server.json: how later commands find the embedded
// server that a `dag server` for that home runs.
type ServerFile struct {
	Frontend string `json:"frontend"`
	UI       string `json:"ui,omitempty"`
	PID      int    `json:"pid"`
	Store    string `json:"store"`
}

// ServerFilePath is where a home's server announces itself.
func ServerFilePath(home string) string { return filepath.Join(home, "server.json") }

// WriteServerFile announces a server for home, replacing the file
// atomically so a reader never sees half of it.
func WriteServerFile(home string, sf ServerFile) error {
	b, err := json.MarshalIndent(sf, "", "  ")
	if err != nil {
		return err
	}
	path := ServerFilePath(home)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// LiveServer reads home's server.json and checks that its process is
// alive and its frontend answers within a few seconds.
func LiveServer(ctx context.Context, home, namespace string) (ServerFile, bool) {
	b, err := os.ReadFile(ServerFilePath(home))
	if err != nil {
		return ServerFile{}, false
	}
	var sf ServerFile
	if json.Unmarshal(b, &sf) != nil || sf.Frontend == "" {
		return ServerFile{}, false
	}
	if sf.PID > 0 && syscall.Kill(sf.PID, 0) != nil {
		return ServerFile{}, false
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c, err := tclient.DialContext(cctx, tclient.Options{HostPort: sf.Frontend, Namespace: namespace, Logger: QuietLogger{}})
	if err != nil {
		return ServerFile{}, false
	}
	defer c.Close()
	if _, err := c.CheckHealth(cctx, &tclient.CheckHealthRequest{}); err != nil {
		return ServerFile{}, false
	}
	return sf, true
}

// WaitForServer polls home's server.json until its server serves, ctx
// ends or limit passes. exited, when not nil, closes when the process
// expected to serve exits: it lost the race to another server for the
// home, or failed, and the winner is looked for a while longer.
func WaitForServer(ctx context.Context, home, namespace string, exited <-chan struct{}, limit time.Duration) (ServerFile, bool) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if sf, ok := LiveServer(ctx, home, namespace); ok {
			return sf, true
		}
		select {
		case <-ctx.Done():
			return ServerFile{}, false
		case <-exited:
			exited = nil
			if d := time.Now().Add(30 * time.Second); d.Before(deadline) {
				deadline = d
			}
		case <-time.After(200 * time.Millisecond):
		}
	}
	return ServerFile{}, false
}

// QuietLogger drops the Temporal SDK's own logging: dag reports what
// matters itself.
type QuietLogger struct{}

func (QuietLogger) Debug(string, ...interface{}) {}
func (QuietLogger) Info(string, ...interface{})  {}
func (QuietLogger) Warn(string, ...interface{})  {}
func (QuietLogger) Error(string, ...interface{}) {}
