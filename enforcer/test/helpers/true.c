/* Smallest possible static executable: used as "an image binary" in tests
 * and as the exec target in the benchmark. */
int main(void) { return 0; }
