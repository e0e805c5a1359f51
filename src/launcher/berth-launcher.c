/*
 * berth-launcher: the `berth` command when a C compiler was there at build time.
 *
 * Node's own start costs more CPU here than the docker CLI's whole `run --rm`, so this
 * launcher hands the call to a resident CLI server (src/cli/server/) instead of starting
 * Node: it sends its argv, environment, cwd and umask, and passes fds 0, 1 and 2 with
 * SCM_RIGHTS, so the server writes straight to the caller's terminal, pipe or file. It
 * then forwards the signals a CLI receives as messages and exits with the status the
 * server reports (re-raising a signal the command "died" of).
 *
 * Whenever the server cannot take the call (no socket, busy, another user, BERTH_CLI_SERVER=0,
 * an unusual stdio) it execs `node <repo>/bin/berth` with the same argv: the cold path,
 * which is always right. When no server answered it first starts one in the background
 * so that the next call is warm.
 *
 * Wire format (src/cli/server/protocol.ts is the other end): frames of
 * u32 little-endian payload length, u8 type, payload.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

enum {
	MSG_REQUEST = 1,
	MSG_SIGNAL = 2,
	MSG_ACCEPTED = 16,
	MSG_BUSY = 17,
	MSG_EXIT = 18,
	MSG_KILLED = 19,
	MSG_STOP = 20,
};

#define PROTOCOL_VERSION 1u
#define HEADER 5u
#define MAX_REQUEST (4u << 20)

/* What a CLI user can send; SIGUSR1 included (Node would start its inspector: the
 * server ignores it, the process survives either way). */
static const int forwarded[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT, SIGTSTP,
	SIGTTIN, SIGTTOU, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGSYS, SIGWINCH,
};
#define NFORWARDED (sizeof(forwarded) / sizeof(forwarded[0]))

static char repo[PATH_MAX];
static int sig_pipe[2] = {-1, -1};

/* Node's ResetStdio: at exit it puts back the file status flags (O_NONBLOCK) and the
 * terminal modes fds 0-2 had at start. The server shares these open file descriptions,
 * so the launcher does the same for it. */
static struct {
	int flags;
	int tty;
	struct termios tio;
} saved[3];
static int stdio_saved;

static void save_stdio(void)
{
	for (int fd = 0; fd < 3; fd++) {
		saved[fd].flags = fcntl(fd, F_GETFL);
		saved[fd].tty = saved[fd].flags >= 0 && tcgetattr(fd, &saved[fd].tio) == 0;
	}
	stdio_saved = 1;
}

static void restore_stdio(void)
{
	sigset_t ttou, old;
	if (!stdio_saved)
		return;
	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU); /* as Node: tcsetattr from a background job must not stop us */
	sigprocmask(SIG_BLOCK, &ttou, &old);
	for (int fd = 0; fd < 3; fd++) {
		if (saved[fd].flags < 0)
			continue;
		fcntl(fd, F_SETFL, saved[fd].flags);
		if (saved[fd].tty) {
			while (tcsetattr(fd, TCSANOW, &saved[fd].tio) < 0 && errno == EINTR)
				;
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void default_signals(void)
{
	for (size_t i = 0; i < NFORWARDED; i++)
		signal(forwarded[i], SIG_DFL);
}

static int harmless_before_accept(int signo);
static void die_of(int signo);

/* BERTH_CLI_DEBUG=1: say why a call ran cold (tests, troubleshooting). */
static void why_cold(const char *reason)
{
	const char *d = getenv("BERTH_CLI_DEBUG");
	if (d && *d && strcmp(d, "0") != 0)
		fprintf(stderr, "berth-launcher: cold: %s\n", reason);
}

static void exec_cold(char **argv)
{
	default_signals();
	/* A signal caught while we tried the server still acts as it would have. */
	if (sig_pipe[0] >= 0) {
		unsigned char s;
		while (read(sig_pipe[0], &s, 1) == 1)
			if (!harmless_before_accept(s))
				die_of(s);
		close(sig_pipe[0]);
		close(sig_pipe[1]);
	}
	size_t argc = 0;
	while (argv[argc])
		argc++;
	char **args = calloc(argc + 2, sizeof(char *));
	char script[PATH_MAX + 16];
	if (!args) {
		perror("berth");
		exit(125);
	}
	snprintf(script, sizeof script, "%s/bin/berth", repo);
	args[0] = "node";
	args[1] = script;
	for (size_t i = 1; i < argc; i++)
		args[i + 1] = argv[i];
	args[argc + 1] = NULL;
	execvp("node", args);
	fprintf(stderr, "berth: cannot run node: %s\n", strerror(errno));
	exit(127);
}

static int find_repo(void)
{
	char exe[PATH_MAX];
	if (!realpath("/proc/self/exe", exe))
		return -1;
	/* <repo>/dist/berth-launcher */
	for (int i = 0; i < 2; i++) {
		char *slash = strrchr(exe, '/');
		if (!slash || slash == exe)
			return -1;
		*slash = '\0';
	}
	if (strlen(exe) >= sizeof repo)
		return -1;
	strcpy(repo, exe);
	return 0;
}

/* Root: /run/berth/cli-0.sock. Others: $XDG_RUNTIME_DIR/berth-cli.sock when that directory
 * is ours, else /tmp/berth-cli-<uid>/cli.sock. BERTH_CLI_SOCKET overrides (tests). */
static int socket_path(char *out, size_t len)
{
	const char *env = getenv("BERTH_CLI_SOCKET");
	uid_t uid = getuid();
	struct stat st;
	int n;
	if (env && *env)
		n = snprintf(out, len, "%s", env);
	else if (uid == 0)
		n = snprintf(out, len, "/run/berth/cli-0.sock");
	else if ((env = getenv("XDG_RUNTIME_DIR")) && *env == '/' && stat(env, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid && (st.st_mode & 077) == 0)
		n = snprintf(out, len, "%s/berth-cli.sock", env);
	else
		n = snprintf(out, len, "/tmp/berth-cli-%u/cli.sock", (unsigned)uid);
	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* The directory must be ours (or root's) and not writable by others, or someone else
 * could put a socket there and receive our environment; the peer's uid is checked as
 * well. 1: safe, 0: missing, -1: unsafe. */
static int safe_dir(const char *path)
{
	char dir[PATH_MAX];
	struct stat st;
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	if (lstat(*dir ? dir : "/", &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return -1;
	return (st.st_uid == getuid() || st.st_uid == 0) && (st.st_mode & 022) == 0 ? 1 : -1;
}

/* Double fork + setsid: the server belongs to no terminal or job of ours. */
static void start_server(const char *sock)
{
	pid_t pid = fork();
	if (pid < 0)
		return;
	if (pid > 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return;
	}
	setsid();
	if (fork() != 0)
		_exit(0);
	default_signals();
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (chdir("/") < 0)
		_exit(1);
	int nul = open("/dev/null", O_RDWR);
	const char *log = getenv("BERTH_CLI_SERVER_LOG");
	int out = log && *log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;
	if (nul < 0)
		_exit(1);
	dup2(nul, 0);
	dup2(out >= 0 ? out : nul, 1);
	dup2(out >= 0 ? out : nul, 2);
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	char script[PATH_MAX + 32];
	snprintf(script, sizeof script, "%s/bin/berth-cli-server", repo);
	setenv("BERTH_CLI_SOCKET", sock, 1);
	execlp("node", "node", script, (char *)NULL);
	_exit(127);
}

/* --- the request ----------------------------------------------------------------- */

struct buf {
	char *data;
	size_t len, cap;
};

static int put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > MAX_REQUEST)
		return -1;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d)
			return -1;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static int put_u32(struct buf *b, uint32_t v)
{
	unsigned char le[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};
	return put(b, le, 4);
}

static int put_str(struct buf *b, const char *s)
{
	return put(b, s, strlen(s) + 1);
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int build_request(struct buf *b, int argc, char **argv, const char *cwd)
{
	uint32_t envc = 0;
	for (char **e = environ; *e; e++)
		envc++;
	mode_t mask = umask(0);
	umask(mask);
	int rc = 0;
	rc |= put_u32(b, 0); /* length, patched below */
	rc |= put(b, "\x01", 1);
	rc |= put_u32(b, PROTOCOL_VERSION);
	rc |= put_u32(b, (uint32_t)mask);
	rc |= put_u32(b, (uint32_t)(argc - 1));
	rc |= put_u32(b, envc);
	rc |= put_str(b, cwd);
	for (int i = 1; i < argc; i++)
		rc |= put_str(b, argv[i]);
	for (char **e = environ; *e; e++)
		rc |= put_str(b, *e);
	if (rc)
		return -1;
	uint32_t n = (uint32_t)(b->len - HEADER);
	unsigned char le[4] = {n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >> 24) & 0xff};
	memcpy(b->data, le, 4);
	return 0;
}

/* The request goes in one sendmsg with fds 0-2 attached to its first byte. */
static int send_request(int sock, const struct buf *b)
{
	int fds[3] = {0, 1, 2};
	char control[CMSG_SPACE(sizeof fds)];
	memset(control, 0, sizeof control);
	struct iovec iov = {b->data, b->len};
	struct msghdr msg = {0};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control;
	msg.msg_controllen = sizeof control;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof fds);
	memcpy(CMSG_DATA(cm), fds, sizeof fds);
	ssize_t n;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	size_t off = (size_t)n;
	while (off < b->len) {
		n = send(sock, b->data + off, b->len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

static void send_signal(int sock, int signo)
{
	unsigned char f[HEADER + 4] = {4, 0, 0, 0, MSG_SIGNAL, signo & 0xff, 0, 0, 0};
	/* Best effort: a server that is gone shows as EOF on the next read. */
	ssize_t n;
	do
		n = send(sock, f, sizeof f, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
}

static void on_signal(int signo)
{
	int saved_errno = errno;
	unsigned char b = (unsigned char)signo;
	ssize_t n = write(sig_pipe[1], &b, 1);
	(void)n;
	errno = saved_errno;
}

static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NFORWARDED; i++)
		sigaction(forwarded[i], &sa, NULL);
}

/* Default action "ignore" or "stop": these never end the launcher before the server took
 * the request. */
static int harmless_before_accept(int signo)
{
	return signo == SIGWINCH || signo == SIGCONT || signo == SIGTSTP || signo == SIGTTIN || signo == SIGTTOU || signo == SIGUSR1;
}

static void die_of(int signo)
{
	restore_stdio();
	signal(signo, SIG_DFL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, signo);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(signo);
	exit(128 + signo);
}

static void stop_self(int signo)
{
	signal(signo, SIG_DFL);
	raise(signo);
	/* continued: catch it again */
	catch_signals();
}

/* The next whole frame in rbuf: its type, -2 when more bytes are needed, -1 when the
 * stream is not ours; the payload's first 64 bytes in *payload. */
static unsigned char rbuf[65536];
static size_t rlen;

static int next_frame(unsigned char *payload, uint32_t *plen)
{
	if (rlen < HEADER)
		return -2; /* need more */
	uint32_t n = get_u32(rbuf);
	if (n > sizeof rbuf - HEADER)
		return -1;
	if (rlen < HEADER + n)
		return -2;
	int type = rbuf[4];
	memset(payload, 0, 64);
	memcpy(payload, rbuf + HEADER, n < 64 ? n : 64);
	*plen = n;
	memmove(rbuf, rbuf + HEADER + n, rlen - HEADER - n);
	rlen -= HEADER + n;
	return type;
}

/* The send failed (EPIPE): a busy server answers and closes as soon as it accepts, which
 * under load can be before we got to send. Its answer is still queued here; say it. */
static void refused(int sock)
{
	unsigned char payload[64];
	uint32_t plen;
	int type;
	for (;;) {
		ssize_t n = recv(sock, rbuf + rlen, sizeof rbuf - rlen, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		rlen += (size_t)n;
	}
	while ((type = next_frame(payload, &plen)) > 0) {
		if (type == MSG_BUSY && plen < 64) {
			payload[plen] = '\0';
			why_cold((const char *)payload);
			return;
		}
	}
	why_cold("the server closed the connection");
}

int main(int argc, char **argv)
{
	if (find_repo() < 0) {
		fprintf(stderr, "berth: cannot find the berth installation from /proc/self/exe\n");
		return 125;
	}
	const char *mode = getenv("BERTH_CLI_SERVER");
	if (mode && strcmp(mode, "0") == 0) {
		why_cold("BERTH_CLI_SERVER=0");
		exec_cold(argv);
	}

	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	if (socket_path(sock_path, sizeof sock_path) < 0)
		exec_cold(argv);

	/* A closed stdio fd cannot be passed; cold Node deals with it as it always has. */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			exec_cold(argv);
	/* A background job must keep job control's rules on the terminal (SIGTTIN/SIGTTOU),
	 * which a server outside our session would not be subject to. */
	if (isatty(0)) {
		pid_t fg = tcgetpgrp(0);
		if (fg >= 0 && fg != getpgrp())
			exec_cold(argv);
	}
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		exec_cold(argv);

	int dir_ok = safe_dir(sock_path);
	if (dir_ok <= 0) {
		/* Missing: the server makes it (0700) when it starts. Unsafe: never used. */
		why_cold(dir_ok == 0 ? "no server" : "unsafe socket directory");
		if (dir_ok == 0)
			start_server(sock_path);
		exec_cold(argv);
	}

	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		exec_cold(argv);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strcpy(addr.sun_path, sock_path);
	if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
		why_cold("no server");
		if (errno == ENOENT || errno == ECONNREFUSED)
			start_server(sock_path);
		close(sock);
		exec_cold(argv);
	}
	struct ucred cred;
	socklen_t clen = sizeof cred;
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || cred.uid != getuid()) {
		why_cold("the server is another user's");
		close(sock);
		exec_cold(argv);
	}

	struct buf req = {0};
	if (build_request(&req, argc, argv, cwd) < 0) {
		close(sock);
		exec_cold(argv);
	}
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		close(sock);
		exec_cold(argv);
	}
	save_stdio();
	catch_signals();
	if (send_request(sock, &req) < 0) {
		refused(sock);
		close(sock);
		exec_cold(argv);
	}
	free(req.data);

	int accepted = 0;
	unsigned char payload[64];
	uint32_t plen;
	/* Signals that came before the server took the request, forwarded once it did. */
	unsigned char pending[64];
	size_t npending = 0;
	struct pollfd pfd[2] = {{.fd = sock, .events = POLLIN}, {.fd = sig_pipe[0], .events = POLLIN}};
	for (;;) {
		int type;
		while ((type = next_frame(payload, &plen)) > 0) {
			switch (type) {
			case MSG_ACCEPTED:
				accepted = 1;
				for (size_t i = 0; i < npending; i++)
					send_signal(sock, pending[i]);
				npending = 0;
				break;
			case MSG_BUSY:
				if (accepted)
					break;
				if (plen < 64) {
					payload[plen] = '\0';
					why_cold((const char *)payload);
				}
				close(sock);
				exec_cold(argv);
				break;
			case MSG_EXIT:
				restore_stdio();
				exit((int)get_u32(payload));
			case MSG_KILLED:
				die_of((int)get_u32(payload));
				break;
			case MSG_STOP:
				stop_self((int)get_u32(payload));
				break;
			default:
				break;
			}
		}
		if (type == -1) {
			restore_stdio();
			fprintf(stderr, "berth: bad message from the CLI server\n");
			exit(125);
		}
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents & POLLIN) {
			unsigned char sigs[64];
			ssize_t n = read(sig_pipe[0], sigs, sizeof sigs);
			for (ssize_t i = 0; i < n; i++) {
				if (accepted)
					send_signal(sock, sigs[i]);
				/* Before the server took the request, a signal that would end a cold
				 * CLI ends us (the server sees us gone and drops the request). */
				else if (!harmless_before_accept(sigs[i]))
					die_of(sigs[i]);
				else if (npending < sizeof pending)
					pending[npending++] = sigs[i];
			}
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(sock, rbuf + rlen, sizeof rbuf - rlen, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (!accepted) {
					/* The server went away (an idle exit racing our connect) before it
					 * took the request: nothing ran. */
					why_cold("the server closed the connection");
					close(sock);
					start_server(sock_path);
					exec_cold(argv);
				}
				break;
			}
			rlen += (size_t)n;
		}
	}
	restore_stdio();
	fprintf(stderr, "berth: the CLI server ended without an exit status (set BERTH_CLI_SERVER=0 to run without it)\n");
	return 125;
}
