/work/main/tools/bench/build/guest.o: /work/main/tools/bench/guest.S \
 /work/main/tools/bench/guest.h
/work/main/tools/bench/guest.h:
