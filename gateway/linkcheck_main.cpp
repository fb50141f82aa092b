// The entry point of the authgate_linkcheck_* executables (gateway/CMakeLists.txt):
// they exist to be linked, never to run.
int main() { return 0; }
