// SPDX-License-Identifier: GPL-2.0
/*
 * The MC146818 RTC and CMOS (rtc.h).
 *
 * Time is kept as seconds, not as registers: while the clock runs, a time
 * register is read by converting the current second (gmtime) into the
 * format register B asks for; while it is stopped (register B SET, or the
 * divider chain held in reset by register A), the guest reads and writes
 * the raw register bytes, and starting the clock converts them back once
 * (timegm, which also makes sense of impossible dates).  Linux sets the
 * time exactly that way: SET and divider reset, year, month, day, hours,
 * minutes, seconds, then both released.
 *
 * Updates happen once a second at div_ns + k s (the divider's phase: the
 * host's second boundaries, or the moment the divider left reset + 500 ms as
 * the datasheet says).  UIP reads 1 for the 244 us before each update.  The
 * flags of register C (update-ended, alarm, periodic) are accounted lazily
 * for the time since the last look, at every access and when the timerfd
 * fires; the timerfd is armed only for an enabled interrupt whose flag is
 * not yet set, so an idle guest costs no wake-ups.  Interrupt line level =
 * IRQF; reading register C clears the flags and with them the line.
 *
 * Locking: r->lock covers all of it.  kr_irq_set() is called with it held
 * (the in-kernel irqchip never calls back into a device; holding the lock
 * keeps the levels in order), and timerfd_settime() too (a syscall on our
 * own fd).  destroy() removes the timerfd from the loop without the lock,
 * since the loop waits for a running callback, which takes it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "machine.h"
#include "rtc.h"

#define NS		1000000000ll
#define RTC_UIP_NS	244000ll	/* UIP set before each update */
#define RTC_RELEASE_NS	500000000ll	/* divider out of reset: first update after this */
#define RTC_DAY		86400ll
/* Seconds of 0000-01-01 and 9999-12-31 23:59:59: the years four BCD digits hold. */
#define RTC_T_MIN	(-62167219200ll)
#define RTC_T_MAX	253402300799ll
/* A loaded RTC left alone for longer than this (100 years) is nonsense. */
#define RTC_IDLE_MAX_NS	(100 * 366 * RTC_DAY * NS)
/* Its count of seconds may run that long past 9999 (the registers stay there). */
#define RTC_SEC_MAX	(RTC_T_MAX + RTC_IDLE_MAX_NS / NS)

#define RTC_SEC		0x00
#define RTC_SEC_ALARM	0x01
#define RTC_MIN		0x02
#define RTC_MIN_ALARM	0x03
#define RTC_HOUR	0x04
#define RTC_HOUR_ALARM	0x05
#define RTC_WDAY	0x06
#define RTC_MDAY	0x07
#define RTC_MON		0x08
#define RTC_YEAR	0x09
#define RTC_A		0x0a
#define RTC_B		0x0b
#define RTC_C		0x0c
#define RTC_D		0x0d
#define RTC_CENTURY	0x32
#define RTC_CMOS_SIZE	128

#define A_UIP		0x80
#define A_DV_RESET	0x60	/* DV = 11x: divider chain held in reset */
#define A_RS		0x0f
#define B_SET		0x80
#define B_PIE		0x40
#define B_AIE		0x20
#define B_UIE		0x10
#define B_DM		0x04	/* binary, not BCD */
#define B_24H		0x02
#define B_IRQS		(B_PIE | B_AIE | B_UIE)
#define C_IRQF		0x80
#define C_PF		0x40	/* the flags sit at the bits of their enables in B */
#define C_AF		0x20
#define C_UF		0x10
#define D_VRT		0x80
#define ALARM_ANY	0xc0	/* both top bits: "don't care" */

struct kr_rtc {
	pthread_mutex_t lock;
	struct kr_irq irq;
	struct kr_loop *loop;
	int tfd;
	int64_t (*now_ns)(void *opaque);
	int64_t (*wall_ns)(void *opaque);
	void *now_opaque;

	uint8_t index;
	uint8_t cmos[RTC_CMOS_SIZE];	/* C holds PF, AF, UF */
	int64_t div_ns;		/* updates at div_ns + k s */
	int64_t base_sec;	/* while running: the time at base_ns */
	int64_t base_ns;
	int64_t synced_ns;	/* register C accounts for events up to here */
	int64_t armed_ns;	/* timerfd target; -1: disarmed */
	int line;
};

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b < 0) ? q - 1 : q;
}

static int64_t rtc_now(const struct kr_rtc *r)
{
	struct timespec ts;

	if (r->now_ns)
		return r->now_ns(r->now_opaque);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

/* The host's wall clock, ns since 1970. */
static int64_t rtc_wall(const struct kr_rtc *r)
{
	struct timespec ts;

	if (r->wall_ns)
		return r->wall_ns(r->now_opaque);
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

static bool rtc_dv_running(const struct kr_rtc *r)
{
	return (r->cmos[RTC_A] & A_DV_RESET) != A_DV_RESET;
}

static bool rtc_running(const struct kr_rtc *r)
{
	return rtc_dv_running(r) && !(r->cmos[RTC_B] & B_SET);
}

/* Number of updates in (a, b]. */
static int64_t rtc_updates(const struct kr_rtc *r, int64_t a, int64_t b)
{
	return floor_div(b - r->div_ns, NS) - floor_div(a - r->div_ns, NS);
}

/*
 * The clock's count of seconds at now.  It stops at RTC_SEC_MAX, the most
 * a load takes (the registers stopped at 9999 long before): a clock
 * restored near it would otherwise count past it, and its next snapshot
 * would be refused.
 */
static int64_t rtc_sec(const struct kr_rtc *r, int64_t now)
{
	int64_t sec = r->base_sec + rtc_updates(r, r->base_ns, now);

	return sec < RTC_SEC_MAX ? sec : RTC_SEC_MAX;
}

/* Periodic interrupt period for register A's rate select, 0: off. */
static int64_t rtc_period_ns(const struct kr_rtc *r)
{
	unsigned int rs = r->cmos[RTC_A] & A_RS;

	if (!rs)
		return 0;
	if (rs < 3)
		rs += 7;	/* 1 and 2 repeat 8 and 9 with a 32.768 kHz base */
	return (NS << (rs - 1)) / 32768;
}

/* ---- register formats ---------------------------------------------------- */

static uint8_t rtc_enc(const struct kr_rtc *r, unsigned int v)
{
	if (r->cmos[RTC_B] & B_DM)
		return v;
	v %= 100;
	return (v / 10) << 4 | (v % 10);
}

static int rtc_dec(const struct kr_rtc *r, uint8_t v)
{
	if (r->cmos[RTC_B] & B_DM)
		return v;
	return (v >> 4) * 10 + (v & 0x0f);	/* nonsense in, nonsense out */
}

static uint8_t rtc_enc_hour(const struct kr_rtc *r, unsigned int h)
{
	if (r->cmos[RTC_B] & B_24H)
		return rtc_enc(r, h);
	/* 12 AM, 1 AM .. 11 AM, 12 PM, 1 PM .. 11 PM; bit 7: PM */
	return rtc_enc(r, h % 12 ? h % 12 : 12) | (h >= 12 ? 0x80 : 0);
}

static int rtc_dec_hour(const struct kr_rtc *r, uint8_t v)
{
	if (r->cmos[RTC_B] & B_24H)
		return rtc_dec(r, v);
	return rtc_dec(r, v & 0x7f) % 12 + ((v & 0x80) ? 12 : 0);
}

/* The time registers (and the century) for time t. */
static void rtc_store_time(struct kr_rtc *r, int64_t t)
{
	time_t tt = t < RTC_T_MIN ? RTC_T_MIN : t > RTC_T_MAX ? RTC_T_MAX : t;
	struct tm tm;
	int year;

	if (!gmtime_r(&tt, &tm))
		return;
	year = tm.tm_year + 1900;
	r->cmos[RTC_SEC] = rtc_enc(r, tm.tm_sec);
	r->cmos[RTC_MIN] = rtc_enc(r, tm.tm_min);
	r->cmos[RTC_HOUR] = rtc_enc_hour(r, tm.tm_hour);
	r->cmos[RTC_WDAY] = rtc_enc(r, tm.tm_wday + 1);	/* Sunday is 1 */
	r->cmos[RTC_MDAY] = rtc_enc(r, tm.tm_mday);
	r->cmos[RTC_MON] = rtc_enc(r, tm.tm_mon + 1);
	r->cmos[RTC_YEAR] = rtc_enc(r, year % 100);
	r->cmos[RTC_CENTURY] = rtc_enc(r, year / 100);
}

/* The time the registers say; the day of the week is derived, not read. */
static int64_t rtc_load_time(const struct kr_rtc *r)
{
	int year = rtc_dec(r, r->cmos[RTC_CENTURY]) * 100 + rtc_dec(r, r->cmos[RTC_YEAR]);
	struct tm tm = {
		.tm_sec = rtc_dec(r, r->cmos[RTC_SEC]),
		.tm_min = rtc_dec(r, r->cmos[RTC_MIN]),
		.tm_hour = rtc_dec_hour(r, r->cmos[RTC_HOUR]),
		.tm_mday = rtc_dec(r, r->cmos[RTC_MDAY]),
		.tm_mon = rtc_dec(r, r->cmos[RTC_MON]) - 1,
		.tm_year = (year > 9999 ? 9999 : year) - 1900,
	};
	int64_t t = timegm(&tm);

	return t < RTC_T_MIN ? RTC_T_MIN : t > RTC_T_MAX ? RTC_T_MAX : t;
}

static bool rtc_is_time_reg(unsigned int idx)
{
	return idx == RTC_SEC || idx == RTC_MIN || idx == RTC_HOUR ||
	       (idx >= RTC_WDAY && idx <= RTC_YEAR) || idx == RTC_CENTURY;
}

static bool rtc_alarm_field(uint8_t alarm, uint8_t now)
{
	return (alarm & ALARM_ANY) == ALARM_ANY || alarm == now;
}

/* Does the alarm match the time t, compared as the chip does, in register format? */
static bool rtc_alarm_match(const struct kr_rtc *r, int64_t t)
{
	int64_t sod = t % RTC_DAY;

	if (sod < 0)
		sod += RTC_DAY;
	return rtc_alarm_field(r->cmos[RTC_SEC_ALARM], rtc_enc(r, sod % 60)) &&
	       rtc_alarm_field(r->cmos[RTC_MIN_ALARM], rtc_enc(r, sod / 60 % 60)) &&
	       rtc_alarm_field(r->cmos[RTC_HOUR_ALARM], rtc_enc_hour(r, sod / 3600));
}

/* ---- events ------------------------------------------------------------- */

/* Sets the flags of the events in (synced_ns, now]. */
static void rtc_account(struct kr_rtc *r, int64_t now)
{
	int64_t period = rtc_period_ns(r);

	if (now <= r->synced_ns)
		return;
	if (rtc_running(r)) {
		int64_t n = rtc_updates(r, r->synced_ns, now);

		if (n > 0) {
			int64_t last = rtc_sec(r, now);

			r->cmos[RTC_C] |= C_UF;
			/* The alarm repeats daily: one day of updates covers every match. */
			for (int64_t i = 0; i < n && i < RTC_DAY && !(r->cmos[RTC_C] & C_AF); i++)
				if (rtc_alarm_match(r, last - i))
					r->cmos[RTC_C] |= C_AF;
		}
	}
	if (rtc_dv_running(r) && period &&
	    floor_div(now - r->div_ns, period) != floor_div(r->synced_ns - r->div_ns, period))
		r->cmos[RTC_C] |= C_PF;
	r->synced_ns = now;
}

static void rtc_update_irq(struct kr_rtc *r)
{
	int level = (r->cmos[RTC_C] & r->cmos[RTC_B] & B_IRQS) != 0;

	if (level != r->line) {
		r->line = level;
		kr_irq_set(&r->irq, level);
	}
}

/*
 * Arms the timerfd for the first event after from that would raise the
 * line (at once if that is not after now).  The alarm is checked at every
 * update (one wake-up a second while AIE is on).
 */
static void rtc_arm_at(struct kr_rtc *r, int64_t from, int64_t now)
{
	uint8_t want = r->cmos[RTC_B] & B_IRQS & ~r->cmos[RTC_C];
	int64_t next = INT64_MAX, period = rtc_period_ns(r);
	struct itimerspec its = { 0 };

	if (r->tfd < 0)
		return;
	if (rtc_running(r) && (want & (B_UIE | B_AIE)))
		next = r->div_ns + (floor_div(from - r->div_ns, NS) + 1) * NS;
	if (rtc_dv_running(r) && (want & B_PIE) && period) {
		int64_t tick = r->div_ns + (floor_div(from - r->div_ns, period) + 1) * period;

		if (tick < next)
			next = tick;
	}
	if (next == r->armed_ns || (next == INT64_MAX && r->armed_ns < 0))
		return;
	if (next != INT64_MAX) {
		int64_t delta = next - now > 0 ? next - now : 1;

		its.it_value.tv_sec = delta / NS;
		its.it_value.tv_nsec = delta % NS;
	}
	if (!timerfd_settime(r->tfd, 0, &its, NULL))
		r->armed_ns = next == INT64_MAX ? -1 : next;
}

static void rtc_arm(struct kr_rtc *r, int64_t now)
{
	rtc_arm_at(r, now, now);
}

static void rtc_timer_event(void *opaque, int fd, uint32_t events)
{
	struct kr_rtc *r = opaque;
	uint64_t expirations;
	int64_t now;

	(void)events;
	if (read(fd, &expirations, sizeof(expirations)) < 0) {
		/* nothing pending: a re-arm raced with the expiry */
	}
	pthread_mutex_lock(&r->lock);
	now = rtc_now(r);
	rtc_account(r, now);
	rtc_update_irq(r);
	r->armed_ns = -1;
	rtc_arm(r, now);
	pthread_mutex_unlock(&r->lock);
}

/* ---- registers ---------------------------------------------------------- */

static uint8_t rtc_read_reg(struct kr_rtc *r, unsigned int idx, int64_t now)
{
	uint8_t v;

	switch (idx) {
	case RTC_A:
		v = r->cmos[RTC_A] & ~A_UIP;
		if (rtc_running(r) && now - r->div_ns - floor_div(now - r->div_ns, NS) * NS >=
				      NS - RTC_UIP_NS)
			v |= A_UIP;
		return v;
	case RTC_C:
		v = r->cmos[RTC_C];
		if (v & r->cmos[RTC_B] & B_IRQS)
			v |= C_IRQF;
		r->cmos[RTC_C] = 0;
		return v;
	case RTC_D:
		return D_VRT;	/* the battery is fine */
	}
	if (rtc_is_time_reg(idx) && rtc_running(r))
		rtc_store_time(r, rtc_sec(r, now));
	return r->cmos[idx];
}

static void rtc_write_reg(struct kr_rtc *r, unsigned int idx, uint8_t v, int64_t now)
{
	bool was_running = rtc_running(r), dv_was_running = rtc_dv_running(r);

	switch (idx) {
	case RTC_A:
		r->cmos[RTC_A] = v & ~A_UIP;
		break;
	case RTC_B:
		/* Setting SET clears UIE (datasheet); Linux restores B afterwards. */
		r->cmos[RTC_B] = (v & B_SET) ? v & ~B_UIE : v;
		break;
	case RTC_C:
	case RTC_D:
		return;		/* read-only */
	default:
		if (rtc_is_time_reg(idx) && was_running) {
			rtc_store_time(r, rtc_sec(r, now));
			r->cmos[idx] = v;
			r->base_sec = rtc_load_time(r);
			r->base_ns = now;
			return;
		}
		r->cmos[idx] = v;
		return;
	}
	if (rtc_dv_running(r) && !dv_was_running)
		r->div_ns = now - (NS - RTC_RELEASE_NS);
	if (was_running && !rtc_running(r)) {
		rtc_store_time(r, rtc_sec(r, now));
	} else if (!was_running && rtc_running(r)) {
		r->base_sec = rtc_load_time(r);
		r->base_ns = now;
	}
}

/* Port 0: index (bit 7, NMI disable, is not ours); port 1: data. */
static void rtc_io(void *opaque, uint64_t offset, uint8_t *data, unsigned int size, bool write)
{
	struct kr_rtc *r = opaque;
	int64_t now;

	pthread_mutex_lock(&r->lock);
	now = rtc_now(r);
	rtc_account(r, now);
	/* An event since the last look raises the line first, even if this reads C. */
	rtc_update_irq(r);
	/* An 8-bit device: wider accesses are byte accesses of consecutive ports. */
	for (unsigned int i = 0; i < size && offset < 2 && i < 2 - offset; i++) {
		unsigned int idx = r->index & 0x7f;

		if (offset + i == 0 && write)
			r->index = data[i];
		else if (offset + i == 0)
			data[i] = r->index;
		else if (write)
			rtc_write_reg(r, idx, data[i], now);
		else
			data[i] = rtc_read_reg(r, idx, now);
	}
	rtc_update_irq(r);
	rtc_arm(r, now);
	pthread_mutex_unlock(&r->lock);
}

/* ---- interface ---------------------------------------------------------- */

struct kr_rtc *kr_rtc_create(const struct kr_rtc_params *p)
{
	struct kr_rtc *r = calloc(1, sizeof(*r));
	int64_t now;

	if (!r)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	r->irq = p->irq;
	r->loop = p->loop;
	r->now_ns = p->now_ns;
	r->wall_ns = p->wall_ns;
	r->now_opaque = p->now_opaque;
	r->tfd = -1;
	r->armed_ns = -1;
	r->cmos[RTC_A] = 0x26;		/* 32.768 kHz divider, 1024 Hz rate */
	r->cmos[RTC_B] = B_24H;		/* BCD, 24 hours, as PC firmware leaves it */
	r->cmos[RTC_D] = D_VRT;
	now = rtc_now(r);
	if (p->has_start) {
		r->base_sec = p->start < RTC_T_MIN ? RTC_T_MIN : p->start > RTC_T_MAX ? RTC_T_MAX
											: p->start;
		r->div_ns = now;
	} else {
		int64_t wall = rtc_wall(r);

		/* Tick with the host's seconds. */
		r->base_sec = floor_div(wall, NS);
		r->div_ns = now - (wall - r->base_sec * NS);
	}
	r->base_ns = r->synced_ns = now;
	if (p->loop) {
		int ret;

		r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (r->tfd < 0)
			goto fail;
		ret = kr_loop_add(p->loop, r->tfd, EPOLLIN, rtc_timer_event, r);
		if (ret) {
			close(r->tfd);
			errno = -ret;
			goto fail;
		}
	}
	return r;
fail:
	pthread_mutex_destroy(&r->lock);
	free(r);
	return NULL;
}

int kr_rtc_attach(struct kr_rtc *rtc, struct kr_bus *pio)
{
	return kr_bus_add(pio, KR_PORT_RTC, 2, rtc_io, rtc, "rtc");
}

void kr_rtc_destroy(struct kr_rtc *rtc)
{
	if (!rtc)
		return;
	if (rtc->tfd >= 0) {
		kr_loop_del(rtc->loop, rtc->tfd);
		close(rtc->tfd);
	}
	pthread_mutex_destroy(&rtc->lock);
	free(rtc);
}

void kr_rtc_set_cmos(struct kr_rtc *rtc, unsigned int index, uint8_t value)
{
	int64_t now;

	if (index >= RTC_CMOS_SIZE)
		return;
	pthread_mutex_lock(&rtc->lock);
	now = rtc_now(rtc);
	rtc_account(rtc, now);
	rtc_update_irq(rtc);
	rtc_write_reg(rtc, index, value, now);
	rtc_update_irq(rtc);
	rtc_arm(rtc, now);
	pthread_mutex_unlock(&rtc->lock);
}

static void rtc_put(struct kr_rtc *rtc, unsigned int index, unsigned int bytes, uint64_t v)
{
	for (unsigned int i = 0; i < bytes; i++)
		rtc->cmos[index + i] = v >> (8 * i);
}

void kr_rtc_set_mem_sizes(struct kr_rtc *rtc, uint64_t ram_below_4g, uint64_t ram_above_4g)
{
	const uint64_t k = 1024, m = 1024 * 1024;
	uint64_t base = ram_below_4g < 640 * k ? ram_below_4g / k : 640;
	uint64_t ext = ram_below_4g > m ? (ram_below_4g - m) / k : 0;
	uint64_t ext16 = ram_below_4g > 16 * m ? (ram_below_4g - 16 * m) >> 16 : 0;
	uint64_t high = ram_above_4g >> 16;

	pthread_mutex_lock(&rtc->lock);
	rtc_put(rtc, 0x15, 2, base);
	rtc_put(rtc, 0x17, 2, ext > 0xffff ? 0xffff : ext);
	rtc_put(rtc, 0x30, 2, ext > 0xffff ? 0xffff : ext);
	rtc_put(rtc, 0x34, 2, ext16 > 0xffff ? 0xffff : ext16);
	rtc_put(rtc, 0x5b, 3, high > 0xffffff ? 0xffffff : high);
	pthread_mutex_unlock(&rtc->lock);
}

/* ---- snapshot ----------------------------------------------------------- */

/*
 * The state, in this order: the index register (u8), the 128 CMOS bytes,
 * then as u64: the divider's phase (ns since its last second boundary),
 * the time since the events were last accounted (register C's flags cover
 * everything before it), the clock's current second (while it runs; else
 * 0, the time being in the registers) and the host's wall clock, in ns
 * since 1970, at the save; and the line's level (flag).
 *
 * Why those clocks: a running RTC is a clock of the world, and a PC's keeps
 * counting while the machine is off.  So the restored clock adds the wall
 * time that passed between save and load (possibly negative on a host
 * whose clock is behind), keeping its sub-second phase relative to the
 * host's seconds, just as it follows the host now; a guest reads the right
 * time of day after a restore without NTP having to step it by the time the
 * snapshot lay on disk.  The events of that gap are not flagged (no burst
 * of update or alarm interrupts for time the guest did not run); those of
 * the last moments before the save still are, as the timer would have.  A
 * stopped clock (SET, or the divider in reset) stays where it was, and the
 * periodic interrupt keeps its phase.
 */
int kr_rtc_save(struct kr_rtc *r, struct kr_sbuf *b)
{
	int64_t now, phase, sec = 0, idle, wall;

	pthread_mutex_lock(&r->lock);
	now = rtc_now(r);
	wall = rtc_wall(r);
	phase = now - r->div_ns - floor_div(now - r->div_ns, NS) * NS;
	if (rtc_running(r))
		sec = rtc_sec(r, now);
	idle = now > r->synced_ns ? now - r->synced_ns : 0;
	/*
	 * No more than a load takes: an RTC restored with that much and left
	 * alone would otherwise save more.  A day of it already sets every
	 * flag that the events of a longer time would.
	 */
	if (idle > RTC_IDLE_MAX_NS)
		idle = RTC_IDLE_MAX_NS;
	kr_sbuf_begin(b, KR_RTC_STATE_VERSION);
	kr_sbuf_u8(b, r->index);
	kr_sbuf_bytes(b, r->cmos, sizeof(r->cmos));
	kr_sbuf_u64(b, phase);
	kr_sbuf_u64(b, idle);
	kr_sbuf_u64(b, sec);
	kr_sbuf_u64(b, wall > 0 ? wall : 0);
	kr_sbuf_bool(b, r->line);
	pthread_mutex_unlock(&r->lock);
	return b->oom ? -ENOMEM : 0;
}

int kr_rtc_load(struct kr_rtc *r, struct kr_sget *g)
{
	uint8_t index, cmos[RTC_CMOS_SIZE], a, c;
	int64_t phase, idle, sec, wall, now;
	bool line, running;

	if (kr_sget_begin(g, KR_RTC_STATE_VERSION))
		return -EPROTO;
	index = kr_sget_u8(g);
	kr_sget_bytes(g, cmos, sizeof(cmos));
	phase = kr_sget_u64(g);
	idle = kr_sget_u64(g);
	sec = kr_sget_u64(g);
	wall = kr_sget_u64(g);
	line = kr_sget_bool(g);
	if (kr_sget_done(g))
		return -EPROTO;
	a = cmos[RTC_A];
	c = cmos[RTC_C];
	/* What rtc_write_reg() and the accounting can leave in A-D. */
	if (a & A_UIP)
		return kr_sget_fail(g, "register A %#x holds UIP, which is never stored", a);
	if ((cmos[RTC_B] & (B_SET | B_UIE)) == (B_SET | B_UIE))
		return kr_sget_fail(g, "register B %#x has UIE with SET, which clears it",
				    cmos[RTC_B]);
	if (c & ~(C_PF | C_AF | C_UF))
		return kr_sget_fail(g, "register C %#x has bits other than PF, AF, UF", c);
	if (cmos[RTC_D] != D_VRT)
		return kr_sget_fail(g, "register D %#x is not VRT alone", cmos[RTC_D]);
	if (phase < 0 || phase >= NS)
		return kr_sget_fail(g, "divider phase %lld ns is not within a second",
				    (long long)phase);
	if (idle < 0 || idle > RTC_IDLE_MAX_NS)
		return kr_sget_fail(g, "events unaccounted for %lld ns", (long long)idle);
	running = (a & A_DV_RESET) != A_DV_RESET && !(cmos[RTC_B] & B_SET);
	if (sec < RTC_T_MIN || sec > RTC_SEC_MAX || (!running && sec))
		return kr_sget_fail(g, "time %lld s (clock %s) is not one it can hold",
				    (long long)sec, running ? "running" : "stopped");
	if (wall < 0)
		return kr_sget_fail(g, "saved at host time %lld ns, before 1970", (long long)wall);
	/* At rest the line is always IRQF (rtc_update_irq()). */
	if (line != ((c & cmos[RTC_B] & B_IRQS) != 0))
		return kr_sget_fail(g, "line level %d where registers B and C say %d", line,
				    (c & cmos[RTC_B] & B_IRQS) != 0);

	pthread_mutex_lock(&r->lock);
	now = rtc_now(r);
	r->index = index;
	memcpy(r->cmos, cmos, sizeof(cmos));
	if (running) {
		int64_t host = rtc_wall(r), gap, gap_sec, p;
		/*
		 * The gap takes the clock no further out of the years 0-9999 than
		 * it was (its registers stay at their ends anyway), so that its
		 * next snapshot loads too.
		 */
		int64_t top = sec > RTC_T_MAX ? sec : RTC_T_MAX;

		/* The wall time since the save, split so that nothing overflows. */
		gap = (host > 0 ? host : 0) - wall;
		gap_sec = floor_div(gap, NS);
		p = phase + (gap - gap_sec * NS);
		sec += gap_sec + p / NS;
		phase = p % NS;
		sec = sec < RTC_T_MIN ? RTC_T_MIN : sec > top ? top : sec;
	}
	r->div_ns = now - phase;
	r->base_sec = sec;
	r->base_ns = now;
	r->synced_ns = now - idle;
	r->line = line;
	/*
	 * The timer as it was armed: for the first event after the last look,
	 * so an event due in the unaccounted time comes at once.
	 */
	rtc_arm_at(r, r->synced_ns, now);
	pthread_mutex_unlock(&r->lock);
	return 0;
}
