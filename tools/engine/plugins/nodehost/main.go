// pulumi-language-nodejs: the smallest Node.js language host the engine tier needs, written
// on sdk/v3's plugin interfaces at the CLI's version. The upstream host's own module
// (sdk/nodejs/cmd/pulumi-language-nodejs/v3) is refused by the module proxy, and the last
// sdk/v3 release that still contained a host (v3.68.0) answers "not supported" to
// RunPlugin, which the 3.250 CLI uses to start a Node policy pack
// (pkg/resource/plugin/analyzer_plugin.go, NewPolicyAnalyzer).
//
// It does two things, both by launching `node` on a script the program's own
// @pulumi/pulumi ships:
//   - Run: `cmd/run` with the flags that script parses (cmd/run/index.js: --monitor,
//     --engine, --organization, --project, --root-directory, --stack, --pwd, --dry-run,
//     --parallel, --tracing) and the config in PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS.
//   - RunPlugin: `cmd/run-policy-pack <engine> <program>` for a policy pack (analyzer),
//     `cmd/run-plugin` otherwise, streaming the plugin's output back to the engine, which
//     reads the plugin's port from its first line.
//
// It installs nothing (`npm ci` does) and reports no required plugins: the engine loads a
// provider when the program first registers one.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Exit code of @pulumi/pulumi's cmd/run after it already showed the user the error
// (cmd/run/index.js: nodeJSProcessExitedAfterShowingUserActionableMessage).
const exitAfterUserMessage = 32

var version = "0.0.0-dev"

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engine string
}

func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.EngineAddress != "" {
		h.engine = req.EngineAddress
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *host) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) InstallDependencies(*pulumirpc.InstallDependenciesRequest, grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse]) error {
	return nil
}

// locate resolves a module the way the program's node would, from dir.
func locate(dir, module string) (string, error) {
	cmd := exec.Command("node", "-e", "process.stdout.write(require.resolve(process.argv[1]))", module)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("cannot find %s from %s (is @pulumi/pulumi installed? run npm ci): %w", module, dir, err)
	}
	return string(out), nil
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.Pwd
	}
	run, err := locate(dir, "@pulumi/pulumi/cmd/run")
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	args := []string{run}
	flag := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	flag("monitor", req.MonitorAddress)
	flag("engine", h.engine)
	flag("organization", req.Organization)
	flag("project", req.Project)
	flag("root-directory", req.GetInfo().GetRootDirectory())
	flag("stack", req.Stack)
	flag("pwd", req.Pwd)
	if req.DryRun {
		args = append(args, "--dry-run")
	}
	flag("parallel", fmt.Sprint(req.Parallel))
	// The entry point is relative to the program's directory (Pulumi.yaml's `main`).
	program := req.Program
	if info := req.GetInfo(); info != nil && info.ProgramDirectory != "" {
		program = filepath.Join(info.ProgramDirectory, info.EntryPoint)
	}
	if program == "" {
		program = "."
	}
	args = append(append(args, program), req.Args...)

	config, err := json.Marshal(req.Config)
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(append([]string{}, req.ConfigSecretKeys...))
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(), "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys))
	typescript := true
	if o := req.GetInfo().GetOptions().GetFields(); o != nil {
		if v, ok := o["typescript"]; ok {
			typescript = v.GetBoolValue()
		}
		if v, ok := o["tsconfig"]; ok && v.GetStringValue() != "" {
			env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+v.GetStringValue())
		}
	}
	if typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}

	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = req.Pwd
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exit) && exit.ExitCode() == exitAfterUserMessage:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exit):
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exit.ExitCode())}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run node: %v", err)}, nil
	}
}

// streamWriter sends a plugin's stdout or stderr to the engine as it comes.
type streamWriter struct {
	mu     *sync.Mutex
	server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]
	stderr bool
}

func (w streamWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	chunk := append([]byte{}, b...)
	msg := &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: chunk}}
	if w.stderr {
		msg = &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: chunk}}
	}
	if err := w.server.Send(msg); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]) error {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.Pwd
	}
	script := "@pulumi/pulumi/cmd/run-plugin"
	if req.Kind == "analyzer" {
		script = "@pulumi/pulumi/cmd/run-policy-pack"
	}
	entry, err := locate(dir, script)
	if err != nil {
		return err
	}
	program := req.GetInfo().GetEntryPoint()
	if program == "" {
		program = "."
	}
	// The engine's arguments end with its address; the script takes the program after it.
	args := append(append([]string{entry}, req.Args...), program)
	cmd := exec.CommandContext(server.Context(), "node", args...)
	cmd.Dir = dir
	cmd.Env = req.Env
	if len(cmd.Env) == 0 {
		cmd.Env = os.Environ()
	}
	var mu sync.Mutex
	cmd.Stdout = streamWriter{mu: &mu, server: server}
	cmd.Stderr = streamWriter{mu: &mu, server: server, stderr: true}
	code := int32(0)
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return fmt.Errorf("could not run node %s: %w", strings.Join(args, " "), err)
		}
		code = int32(exit.ExitCode())
	}
	mu.Lock()
	defer mu.Unlock()
	return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}

func (h *host) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	exe, _ := os.Executable()
	return &pulumirpc.AboutResponse{Executable: filepath.Base(exe), Version: version}, nil
}

func main() {
	// The engine starts a language host as `pulumi-language-nodejs [flags] <engine address>`.
	h := &host{}
	for i := 1; i < len(os.Args); i++ {
		a := os.Args[i]
		if a == "--tracing" || a == "-tracing" {
			i++ // takes a value
			continue
		}
		if !strings.HasPrefix(a, "-") {
			h.engine = a
		}
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil && err != io.EOF {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}
