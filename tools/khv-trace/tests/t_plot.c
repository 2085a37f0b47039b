// SPDX-License-Identifier: GPL-2.0
/*
 * The report's files from synthetic traces, in a temporary directory:
 * each SVG parsed with libxml2 (an <svg> root of the expected size, the
 * polygons and texts a reader needs: the reason names, the vCPUs, the
 * states), index.html parsed as HTML (it shows the four plots and links
 * report.txt, its names escaped), report.txt's lines.  Then the same for
 * an empty trace, and a million events: drawn quickly into files of a
 * reasonable size (the timeline is drawn at pixel resolution).
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "../analyze.h"
#include "../plot.h"
#include "../report.h"
#include "synth.h"
#include "t.h"

static const char *const svgs[4] = {
	KTR_PLOT_RATES, KTR_PLOT_LATENCY, KTR_PLOT_HIST, KTR_PLOT_TIMELINE,
};

struct svg_info {
	bool ok;
	unsigned int polygons, texts;
	char *text;		/* every <text>'s content, one per line */
	size_t text_len;
	long width, height;
	long bytes;
};

static void walk_svg(xmlNode *n, struct svg_info *s)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		/* PLplot's svg device fills with <polygon> or a filled <polyline>. */
		if (!xmlStrcmp(n->name, BAD_CAST "polygon") ||
		    !xmlStrcmp(n->name, BAD_CAST "polyline")) {
			xmlChar *fill = xmlGetProp(n, BAD_CAST "fill");

			if (fill && xmlStrcmp(fill, BAD_CAST "none") &&
			    (!n->parent || xmlStrcmp(n->parent->name, BAD_CAST "clipPath")))
				s->polygons++;
			xmlFree(fill);
		}
		if (!xmlStrcmp(n->name, BAD_CAST "text")) {
			xmlChar *c = xmlNodeGetContent(n);
			size_t l = c ? strlen((char *)c) : 0;

			s->texts++;
			s->text = realloc(s->text, s->text_len + l + 2);
			memcpy(s->text + s->text_len, c ? (char *)c : "", l);
			s->text_len += l;
			s->text[s->text_len++] = '\n';
			s->text[s->text_len] = 0;
			xmlFree(c);
		}
		walk_svg(n->children, s);
	}
}

static struct svg_info read_svg(const char *dir, const char *file)
{
	struct svg_info s = { 0 };
	char path[4096];
	struct stat st;
	xmlDoc *doc;
	xmlNode *root;
	xmlChar *w, *h;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (stat(path, &st))
		return s;
	s.bytes = (long)st.st_size;
	doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return s;
	root = xmlDocGetRootElement(doc);
	if (root && !xmlStrcmp(root->name, BAD_CAST "svg")) {
		w = xmlGetProp(root, BAD_CAST "width");
		h = xmlGetProp(root, BAD_CAST "height");
		s.width = w ? atol((char *)w) : 0;
		s.height = h ? atol((char *)h) : 0;
		xmlFree(w);
		xmlFree(h);
		s.text = calloc(1, 1);
		walk_svg(root->children, &s);
		s.ok = true;
	}
	xmlFreeDoc(doc);
	return s;
}

static void collect_html(xmlNode *n, char *imgs, size_t len, bool *txt_link)
{
	for (; n; n = n->next) {
		if (n->type == XML_ELEMENT_NODE && !xmlStrcasecmp(n->name, BAD_CAST "img")) {
			xmlChar *src = xmlGetProp(n, BAD_CAST "src");

			if (src) {
				strncat(imgs, (char *)src, len - strlen(imgs) - 2);
				strcat(imgs, " ");
			}
			xmlFree(src);
		}
		if (n->type == XML_ELEMENT_NODE && !xmlStrcasecmp(n->name, BAD_CAST "a")) {
			xmlChar *href = xmlGetProp(n, BAD_CAST "href");

			if (href && !strcmp((char *)href, KTR_REPORT_TXT))
				*txt_link = true;
			xmlFree(href);
		}
		collect_html(n->children, imgs, len, txt_link);
	}
}

static char *slurp(const char *dir, const char *file)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return t_read_file(path, NULL);
}

static void rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path))
			rm_rf(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

/* Runs khv-trace report on s's file: the exit status; its line to /dev/null. */
static int report(const struct synth *s, const char *tmp, const char *out, unsigned int top)
{
	struct ktr_opts o = { .cmd = KTR_CMD_REPORT, .top = top };
	char in[4096];
	size_t len;
	unsigned char *img = ktr_image(&s->t, &len);
	FILE *f;
	int r, saved;

	snprintf(in, sizeof(in), "%s/in.dat", tmp);
	f = fopen(in, "wb");
	CHECK(img && f && fwrite(img, 1, len, f) == len);
	if (f)
		fclose(f);
	free(img);
	o.in = in;
	o.out = out;
	fflush(stdout);
	saved = dup(1);
	CHECK(freopen("/dev/null", "w", stdout) != NULL);
	r = ktr_report(&o);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	return r;
}

KTR_TEST(plot_report_files)
{
	char tmp[] = "/tmp/ktr-plot-XXXXXX", out[4200], imgs[1024] = "";
	struct svg_info s[4];
	struct synth sy;
	bool txt_link = false;
	htmlDocPtr doc;
	char *txt, *html, path[4300];
	unsigned int i;

	CHECK(mkdtemp(tmp) != NULL);
	snprintf(out, sizeof(out), "%s/deep/er", tmp);
	sy_init(&sy, SY_START, SY_START);
	sy.t.h.pid = 4242;
	snprintf(sy.t.h.comm, sizeof(sy.t.h.comm), "khv-run");
	sy_proc(&sy, 4242, "khv-run");
	sy_workload(&sy, 4242, 4, 1.0, 2000, 1);
	CHECK_EQ(report(&sy, tmp, out, 3), 0);

	for (i = 0; i < 4; i++) {
		s[i] = read_svg(out, svgs[i]);
		CHECK(s[i].ok);
		CHECK(s[i].width >= 1000);
		CHECK(s[i].height >= 200);
		CHECK(s[i].texts > 5);
	}
	/* Rates: 3 reasons and "other", with their names in the legend. */
	CHECK(s[0].polygons >= 4);
	CHECK(strstr(s[0].text, "svm_msr (") != NULL);
	CHECK(strstr(s[0].text, "other: 4 reasons") != NULL);
	CHECK(strstr(s[0].text, "Exits per second by reason: pid 4242 (khv-run), 1.00 s") != NULL);
	/* Latency: a row per reason and way among the top 3. */
	CHECK(strstr(s[1].text, "svm_msr, kernel") != NULL);
	CHECK(strstr(s[1].text, "svm_ioio, user") != NULL);
	CHECK(strstr(s[1].text, "10 us") != NULL);
	/* Histograms: a panel per reason. */
	CHECK(strstr(s[2].text, "svm_msr: ") != NULL);
	CHECK(strstr(s[2].text, ", p99 ") != NULL);
	/* Timeline: 4 bands, the states. */
	CHECK(strstr(s[3].text, "vcpu 3") != NULL);
	CHECK(strstr(s[3].text, "halted") != NULL);
	CHECK(s[3].polygons >= 4 * 4);

	snprintf(path, sizeof(path), "%s/%s", out, KTR_REPORT_HTML);
	doc = htmlReadFile(path, "utf-8", HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
	CHECK(doc != NULL);
	if (doc) {
		collect_html(xmlDocGetRootElement(doc), imgs, sizeof(imgs), &txt_link);
		xmlFreeDoc(doc);
	}
	CHECK_STR(imgs, "rates.svg latency.svg latency-hist.svg timeline.svg ");
	CHECK(txt_link);
	html = slurp(out, KTR_REPORT_HTML);
	CHECK(html && strstr(html, "<td>svm_msr</td>"));
	free(html);

	txt = slurp(out, KTR_REPORT_TXT);
	CHECK(txt != NULL);
	CHECK(txt && strstr(txt, "process      4242 (khv-run)\n"));
	CHECK(txt && strstr(txt, "\nsvm_msr "));
	CHECK(txt && strstr(txt, "\nall "));
	CHECK(txt && strstr(txt, "\nvcpu 3 "));
	CHECK(txt && strstr(txt, "Exits to userspace (khv_userspace_exit, by KHV_EXIT_* reason): io "));
	free(txt);
	for (i = 0; i < 4; i++)
		free(s[i].text);
	sy_free(&sy);
	rm_rf(tmp);
}

/* Every VM: vCPUs named by process; a VMM's name needing escapes. */
KTR_TEST(plot_processes)
{
	char tmp[] = "/tmp/ktr-plot-XXXXXX", out[4200];
	struct svg_info s;
	struct synth sy;
	char *html, *txt;

	CHECK(mkdtemp(tmp) != NULL);
	snprintf(out, sizeof(out), "%s/rep", tmp);
	sy_init(&sy, SY_START, SY_START);
	sy_proc(&sy, 4242, "khv-run");
	sy_proc(&sy, 5151, "vmm<&>#2");
	sy_workload(&sy, 4242, 2, 0.2, 1500, 2);
	sy_workload(&sy, 5151, 1, 0.2, 800, 3);
	CHECK_EQ(report(&sy, tmp, out, 8), 0);
	s = read_svg(out, KTR_PLOT_TIMELINE);
	CHECK(s.ok);
	CHECK(s.text && strstr(s.text, "5151/vcpu 0"));
	CHECK(s.text && strstr(s.text, "every VM (2 processes)"));
	free(s.text);
	txt = slurp(out, KTR_REPORT_TXT);
	CHECK(txt && strstr(txt, "processes    2: 4242 (khv-run) 5151 (vmm<&>#2)"));
	free(txt);
	html = slurp(out, KTR_REPORT_HTML);
	CHECK(html && strstr(html, "<td>4242/vcpu 1</td>"));
	CHECK(html && !strstr(html, "<&>"));
	free(html);
	sy_free(&sy);
	rm_rf(tmp);
}

/* Nothing recorded, and no time at all: still well-formed files that say so. */
KTR_TEST(plot_empty)
{
	char tmp[] = "/tmp/ktr-plot-XXXXXX", out[4200];
	struct synth sy;
	unsigned int i;

	CHECK(mkdtemp(tmp) != NULL);
	snprintf(out, sizeof(out), "%s/rep", tmp);
	sy_init(&sy, SY_START, SY_START + 5 * SY_MS);
	CHECK_EQ(report(&sy, tmp, out, 8), 0);
	for (i = 0; i < 4; i++) {
		struct svg_info s = read_svg(out, svgs[i]);

		CHECK(s.ok);
		CHECK(s.text && (strstr(s.text, "no exits recorded") || strstr(s.text, "no exit was timed") ||
				 strstr(s.text, "no vCPU events recorded")));
		free(s.text);
	}
	sy_free(&sy);

	sy_init(&sy, SY_START, SY_START);
	sy_name(&sy, 0x7c, "svm_msr");
	sy_exit(&sy, 1, 0, 0, 0, 1);
	CHECK_EQ(report(&sy, tmp, out, 8), 0);
	for (i = 0; i < 4; i++) {
		struct svg_info s = read_svg(out, svgs[i]);

		CHECK(s.ok);
		free(s.text);
	}
	sy_free(&sy);
	rm_rf(tmp);
}

/*
 * About a million events (12 vCPUs, 10 s): the report in seconds, the
 * timeline well under 2 MB (runs of equal columns are one step), every
 * file under 3 MB.
 */
KTR_TEST(plot_million)
{
	char tmp[] = "/tmp/ktr-plot-XXXXXX", out[4200];
	struct timespec t0, t1;
	struct synth sy;
	unsigned int i;
	double secs;

	CHECK(mkdtemp(tmp) != NULL);
	snprintf(out, sizeof(out), "%s/rep", tmp);
	sy_init(&sy, SY_START, SY_START);
	sy.t.h.pid = 4242;
	sy_workload(&sy, 4242, 12, 10.0, 100000, 5);
	CHECK(sy.t.h.nrec > 900000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(report(&sy, tmp, out, 8), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("# plot_million: %llu records, report in %.2f s (ASan build):",
	       (unsigned long long)sy.t.h.nrec, secs);
	for (i = 0; i < 4; i++) {
		struct svg_info s = read_svg(out, svgs[i]);

		CHECK(s.ok);
		CHECK(s.bytes < 3000000);
		if (i == 3)
			CHECK(s.bytes < 2000000);
		printf(" %s %ld KB", svgs[i], s.bytes / 1024);
		free(s.text);
	}
	printf("\n");
	CHECK(secs < 60);
	sy_free(&sy);
	rm_rf(tmp);
}

KTR_TEST(plot_helpers)
{
	char buf[64], why[256];

	ktr_fmt_ns(850, buf, sizeof(buf));
	CHECK_STR(buf, "850 ns");
	ktr_fmt_ns(12345, buf, sizeof(buf));
	CHECK_STR(buf, "12.3 us");
	ktr_fmt_ns(4560000, buf, sizeof(buf));
	CHECK_STR(buf, "4.56 ms");
	ktr_fmt_ns(1200000000, buf, sizeof(buf));
	CHECK_STR(buf, "1.2 s");
	CHECK_EQ(ktr_plot_check(why, sizeof(why)), 0);
}

/* An output directory that cannot be made: refused, status 5. */
KTR_TEST(plot_unwritable)
{
	char tmp[] = "/tmp/ktr-plot-XXXXXX";
	struct synth sy;

	CHECK(mkdtemp(tmp) != NULL);
	sy_init(&sy, SY_START, SY_START + SY_MS);
	CHECK_EQ(report(&sy, tmp, "/proc/self/khv-trace-report", 8), KTR_EXIT_FAIL);
	sy_free(&sy);
	rm_rf(tmp);
}
