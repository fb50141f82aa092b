// Boost.JSON's compiled part for the standalone libFuzzer build (run.sh); the
// main build gets it from gateway/net/boost_impl.cpp (authgate_boost).
#include <boost/json/src.hpp>
