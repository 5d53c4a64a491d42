package embedded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
	enumspb "go.temporal.io/api/enums/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Config describes an embedded server. Zero ports mean: the default port
// when free (7233 for gRPC, 8233 for the UI), otherwise any free port.
type Config struct {
	// DBFile is the SQLite database; created with its schema when missing.
	DBFile string
	// Namespaces are created if absent.
	Namespaces []string
	// SearchAttributes are registered on new namespaces (Keyword etc.).
	SearchAttributes map[string]enumspb.IndexedValueType
	// FrontendPort and UIPort; 0 picks as described above.
	FrontendPort, UIPort int
	// NoUI skips the Web UI.
	NoUI bool
	// LogFile receives the server's own log (warnings and errors).
	LogFile string
	// Retention is how long closed workflows stay in the namespaces (their
	// status, history and queries); 0 means DefaultRetention. It is set on
	// new namespaces and brought up to date on existing ones at every
	// start. Runs outlive it through the run records in the store.
	Retention time.Duration
}

// DefaultRetention keeps closed runs for 30 days (Temporal's own default
// for a new namespace is one day).
const DefaultRetention = 30 * 24 * time.Hour

// Server is a running embedded Temporal server.
type Server struct {
	srv temporal.Server
	ui  *uiserver.Server
	// Frontend is the gRPC address clients and workers dial.
	Frontend string
	// UI is the Web UI's base URL ("" without UI).
	UI string
}

const loopback = "127.0.0.1"

// Start starts the server and returns once its frontend accepts calls;
// ctx bounds the start (not the server's life: Stop ends it).
func Start(ctx context.Context, c Config) (*Server, error) {
	if c.DBFile == "" || len(c.Namespaces) == 0 {
		return nil, errors.New("embedded temporal: DBFile and Namespaces are required")
	}
	if err := os.MkdirAll(filepath.Dir(c.DBFile), 0o755); err != nil {
		return nil, err
	}
	ports, err := servicePorts(c.FrontendPort)
	if err != nil {
		return nil, err
	}
	sqlConf, err := sqlConfig(c)
	if err != nil {
		return nil, err
	}
	logger, err := serverLogger(c.LogFile)
	if err != nil {
		return nil, err
	}
	srv, err := newServer(serverConfig(ports, sqlConf), ports, logger)
	if err != nil {
		return nil, err
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("embedded temporal: start: %w", err)
	}
	s := &Server{srv: srv, Frontend: net.JoinHostPort(loopback, strconv.Itoa(ports["frontend"]))}
	if err := keepRetention(ctx, s.Frontend, c.Namespaces, c.retention()); err != nil {
		srv.Stop()
		return nil, err
	}
	if !c.NoUI {
		if err := s.startUI(c.UIPort, logger); err != nil {
			srv.Stop()
			return nil, err
		}
	}
	return s, nil
}

// servicePorts picks the frontend's port (want, else 7233 when free, else
// any) and free ports for the other services.
func servicePorts(want int) (map[string]int, error) {
	front, err := pickPort(want, 7233)
	if err != nil {
		return nil, err
	}
	ports := map[string]int{"frontend": front}
	for _, svc := range []string{"frontend-http", "history", "matching", "worker"} {
		if ports[svc], err = freePort(); err != nil {
			return nil, err
		}
	}
	return ports, nil
}

// serverLogger writes the server's warnings and errors to file ("" drops
// them).
func serverLogger(file string) (log.Logger, error) {
	if file == "" {
		return log.NewNoopLogger(), nil
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return nil, err
	}
	zl := log.BuildZapLogger(log.Config{Level: "warn", OutputFile: file, Format: "json"})
	if zl == nil {
		return nil, fmt.Errorf("embedded temporal: cannot log to %s", file)
	}
	return log.NewZapLogger(zl), nil
}

// newServer makes the server of conf: every service in this process, on
// static loopback hosts, with the dynamic settings a single process wants.
func newServer(conf *config.Config, ports map[string]int, logger log.Logger) (temporal.Server, error) {
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, err
	}
	claims, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, err
	}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for name, svc := range map[primitives.ServiceName]string{
		primitives.FrontendService: "frontend", primitives.HistoryService: "history",
		primitives.MatchingService: "matching", primitives.WorkerService: "worker",
	} {
		hosts[name] = static.SingleLocalHost(net.JoinHostPort(loopback, strconv.Itoa(ports[svc])))
	}
	dyn := dynamicconfig.StaticClient{
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 4096,
		// One partition per task queue: partitions spread load over
		// matching hosts, and a single-process server has one; with four,
		// a task and an idle poller often sit in different partitions
		// until forwarding pairs them.
		dynamicconfig.MatchingNumTaskqueueReadPartitions.Key():  1,
		dynamicconfig.MatchingNumTaskqueueWritePartitions.Key(): 1,
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claims }),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("embedded temporal: %w", err)
	}
	return srv, nil
}

// startUI serves the Web UI on port (0: 8233 when free, else any). Its
// Start blocks until Stop; a failure to serve leaves dag working without
// the UI, so it is only logged.
func (s *Server) startUI(port int, logger log.Logger) error {
	uiPort, err := pickPort(port, 8233)
	if err != nil {
		return err
	}
	s.ui = uiserver.NewServer(uioptions.WithConfigProvider(&uiconfig.Config{
		Host: loopback, Port: uiPort, TemporalGRPCAddress: s.Frontend,
		EnableUI: true, HideLogs: true, DisableNewsFetch: true,
		CORS: uiconfig.CORS{CookieInsecure: true},
	}))
	go func() {
		if err := s.ui.Start(); err != nil {
			logger.Warn("web ui stopped: " + err.Error())
		}
	}()
	s.UI = "http://" + net.JoinHostPort(loopback, strconv.Itoa(uiPort))
	return nil
}

// Stop stops the UI and the server.
func (s *Server) Stop() {
	if s.ui != nil {
		s.ui.Stop()
	}
	s.srv.Stop()
}

func sqlConfig(c Config) (*config.SQL, error) {
	conf := &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: c.DBFile,
		// Keys other than SQLite URI parameters become PRAGMAs. WAL lets
		// readers run beside the writer; synchronous=NORMAL skips the
		// fsync on every commit, which in WAL mode still survives the
		// process being killed (only a power loss can drop the last
		// commits).
		ConnectAttributes: map[string]string{
			"mode": "rwc", "journal_mode": "wal", "busy_timeout": "10000", "synchronous": "normal",
		},
	}
	if _, err := os.Stat(c.DBFile); errors.Is(err, os.ErrNotExist) {
		if err := sqliteschema.SetupSchema(conf); err != nil {
			return nil, fmt.Errorf("embedded temporal: schema: %w", err)
		}
	}
	var nss []*sqliteschema.NamespaceConfig
	for _, ns := range c.Namespaces {
		nc, err := sqliteschema.NewNamespaceConfig(clusterName, ns, false, c.SearchAttributes)
		if err != nil {
			return nil, fmt.Errorf("embedded temporal: namespace %s: %w", ns, err)
		}
		nc.Detail.Config.Retention = durationpb.New(c.retention())
		nss = append(nss, nc)
	}
	if err := sqliteschema.CreateNamespaces(conf, nss...); err != nil {
		return nil, fmt.Errorf("embedded temporal: namespaces: %w", err)
	}
	return conf, nil
}

const clusterName = "active"

func serverConfig(ports map[string]int, sqlConf *config.SQL) *config.Config {
	var conf config.Config
	conf.Global.Membership.MaxJoinDuration = 30 * time.Second
	conf.Global.Membership.BroadcastAddress = loopback
	conf.Persistence.DefaultStore = "sqlite"
	conf.Persistence.VisibilityStore = "sqlite"
	conf.Persistence.NumHistoryShards = 1
	conf.Persistence.DataStores = map[string]config.DataStore{"sqlite": {SQL: sqlConf}}
	front := net.JoinHostPort(loopback, strconv.Itoa(ports["frontend"]))
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{clusterName: {
			Enabled: true, InitialFailoverVersion: 1, RPCAddress: front,
			HTTPAddress: net.JoinHostPort(loopback, strconv.Itoa(ports["frontend-http"])),
		}},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	conf.Services = map[string]config.Service{}
	for _, svc := range []string{"frontend", "history", "matching", "worker"} {
		var s config.Service
		s.RPC.GRPCPort = ports[svc]
		s.RPC.BindOnIP = loopback
		if svc == "frontend" {
			s.RPC.HTTPPort = ports["frontend-http"]
		}
		conf.Services[svc] = s
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = front
	return &conf
}

// pickPort returns want when set, else def when free, else a free port.
func pickPort(want, def int) (int, error) {
	if want > 0 {
		return want, nil
	}
	if l, err := net.Listen("tcp", net.JoinHostPort(loopback, strconv.Itoa(def))); err == nil {
		l.Close()
		return def, nil
	}
	return freePort()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", loopback+":0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c Config) retention() time.Duration {
	if c.Retention > 0 {
		return c.Retention
	}
	return DefaultRetention
}

// keepRetention sets the retention of namespaces that exist already (new
// ones got it at creation) through the frontend, as `temporal operator
// namespace update --retention` would.
func keepRetention(ctx context.Context, frontend string, namespaces []string, retention time.Duration) error {
	conn, err := grpc.NewClient(frontend, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("embedded temporal: %w", err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	svc := workflowservice.NewWorkflowServiceClient(conn)
	for _, ns := range namespaces {
		desc, err := svc.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
		if err != nil {
			return fmt.Errorf("embedded temporal: namespace %s: %w", ns, err)
		}
		if desc.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration() == retention {
			continue
		}
		_, err = svc.UpdateNamespace(ctx, &workflowservice.UpdateNamespaceRequest{
			Namespace: ns,
			Config:    &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(retention)},
		})
		if err != nil {
			return fmt.Errorf("embedded temporal: namespace %s: retention: %w", ns, err)
		}
	}
	return nil
}
