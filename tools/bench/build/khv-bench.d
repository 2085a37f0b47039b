/work/main/tools/bench/build/khv-bench.o: \
 /work/main/tools/bench/khv-bench.c /work/main/tools/bench/bench.h \
 /work/main/tools/bench/guest.h
/work/main/tools/bench/bench.h:
/work/main/tools/bench/guest.h:
