// Running command-line tools with posix_spawn (see tools.hpp).
#include "tools.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "gnm/core/error.hpp"
#include "gnm/core/timer.hpp"

extern char** environ;

namespace chapter07 {

ToolRun run_tool(const std::vector<std::string>& argv) {
  if (argv.empty()) throw gnm::Error("run_tool: no command");
  int fds[2];
  if (pipe(fds) != 0) throw gnm::Error(std::string("run_tool: pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // The child writes both streams into the pipe and closes its copy of the read end.
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  gnm::HostTimer timer;
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw gnm::Error("cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  ToolRun run;
  char buf[65536];
  for (;;) {
    const ssize_t got = read(fds[0], buf, sizeof buf);
    if (got > 0) {
      run.output.append(buf, static_cast<std::size_t>(got));
    } else if (got == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw gnm::Error("waitpid for " + argv[0] + " failed");
  }
  run.elapsed_ms = timer.elapsed_ms();
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::optional<std::filesystem::path> find_tool(std::string_view name, std::string_view env_var,
                                               std::string_view configured) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (const char* env = std::getenv(std::string(env_var).c_str()); env && *env) {
    return fs::path(env);  // the user's choice, even when wrong: run_tool will say so
  }
  if (!configured.empty() && fs::exists(fs::path(configured), ec)) return fs::path(configured);
  if (const char* path = std::getenv("PATH"); path && *path) {
    std::string_view rest(path);
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const std::string_view dir = rest.substr(0, colon);
      if (!dir.empty()) {
        const fs::path candidate = fs::path(dir) / name;
        if (access(candidate.c_str(), X_OK) == 0) return candidate;
      }
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  const fs::path cuda = fs::path("/usr/local/cuda/bin") / name;
  if (access(cuda.c_str(), X_OK) == 0) return cuda;
  return std::nullopt;
}

TempDir::TempDir(std::string_view tag) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / ("gnm-" + std::string(tag) + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw gnm::IoError("cannot create a temporary directory " + pattern + ": " +
                       std::strerror(errno));
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);  // best effort: a leftover temp dir harms nobody
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    if (eol == std::string_view::npos) break;
    text.remove_prefix(eol + 1);
  }
  return lines;
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

std::string last_line(std::string_view text) {
  const auto lines = split_lines(trim(text));
  return lines.empty() ? std::string() : lines.back();
}

}  // namespace chapter07
