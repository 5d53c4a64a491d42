package main

import (
	"fmt"
	"os"
	"time"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/artifacts/s3"
	"github.com/dagproject/dag/datasets"
	"github.com/dagproject/dag/errdefs"
)

// fetcher pins remote sources into store with the settings of docs/cli.md:
// DAG_HF_ENDPOINT (default https://huggingface.co) and HF_TOKEN for
// hf://, and the S3 store's variables (DAG_S3_ENDPOINT, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, DAG_S3_INSECURE, AWS_REGION)
// for s3://. Download progress goes to stderr.
func (g *globals) fetcher(store artifacts.Store) (*datasets.Fetcher, error) {
	opts := []datasets.FetchOption{datasets.WithProgress(g.stderr, 2*time.Second)}
	if e := os.Getenv("DAG_HF_ENDPOINT"); e != "" {
		opts = append(opts, datasets.WithHFEndpoint(e))
	}
	if t := os.Getenv("HF_TOKEN"); t != "" {
		opts = append(opts, datasets.WithHFToken(t))
	}
	cfg, err := s3ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	opts = append(opts, datasets.WithS3(cfg))
	return datasets.NewFetcher(store, opts...)
}

// s3ConfigFromEnv reads the S3 settings the store and s3:// sources share
// (docs/cli.md, "Settings").
func s3ConfigFromEnv() (s3.Config, error) {
	cfg := s3.Config{
		Endpoint:     os.Getenv("DAG_S3_ENDPOINT"),
		AccessKey:    os.Getenv("AWS_ACCESS_KEY_ID"),
		SecretKey:    os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken: os.Getenv("AWS_SESSION_TOKEN"),
		Region:       os.Getenv("AWS_REGION"),
	}
	switch v := os.Getenv("DAG_S3_INSECURE"); v {
	case "", "0", "false":
	case "1", "true":
		cfg.Insecure = true
	default:
		return cfg, fmt.Errorf("DAG_S3_INSECURE=%q: want 1 or 0: %w", v, errdefs.ErrInvalidArgument)
	}
	return cfg, nil
}
