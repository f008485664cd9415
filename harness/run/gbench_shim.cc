// gbench_shim.cc - see gbench_shim.h. Only glue: no timing logic lives here.
#include "run/gbench_shim.h"

#include <benchmark/benchmark.h>

#include <memory>

#include <sstream>
#include <string>
#include <vector>

namespace
{

benchmark::State *S(gb_state *st)
{
	return reinterpret_cast<benchmark::State *>(st);
}

benchmark::internal::Benchmark *B(gb_bench *b)
{
	return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}

// Hands each run to a C callback; prints nothing.
class CallbackReporter : public benchmark::BenchmarkReporter
{
      public:
	CallbackReporter(gb_report_fn fn, void *user) : fn_(fn), user_(user)
	{
	}
	bool ReportContext(const Context &) override
	{
		return true;
	}
	void ReportRuns(const std::vector<Run> &runs) override
	{
		for (const Run &r : runs) {
			std::string name = r.benchmark_name();
			gb_run out{};
			out.name = name.c_str();
			out.aggregate = r.run_type == Run::RT_Aggregate;
			out.aggregate_name = r.aggregate_name.c_str();
			out.error = r.error_occurred;
			out.error_message = r.error_message.c_str();
			out.iterations = static_cast<int64_t>(r.iterations);
			out.repetition_index = r.repetition_index;
			// Per-iteration times in the run's unit, converted to ns.
			double to_ns = 1e9 / benchmark::GetTimeUnitMultiplier(r.time_unit);
			out.real_time_ns = r.GetAdjustedRealTime() * to_ns;
			out.cpu_time_ns = r.GetAdjustedCPUTime() * to_ns;
			out.complexity_n = r.complexity_n;
			fn_(&out, user_);
		}
	}

      private:
	gb_report_fn fn_;
	void *user_;
};

// attnbench's context (gb_set_context): a JSON object's text, and lines of
// text for the console and CSV reporters.
std::string g_context_json, g_context_text;

// Google Benchmark's own context text without the line that says how the
// library itself was built. Debian builds libbenchmark without -DNDEBUG
// (CMake build type "None"), so the library always warns "Library was built
// as DEBUG", although it is optimised and the timed code is attnbench's own.
std::string drop_library_build_line(const std::string &s)
{
	std::istringstream in(s);
	std::string line, out;
	while (std::getline(in, line))
		if (line.find("Library was built as DEBUG") == std::string::npos)
			out += line + "\n";
	return out;
}

// What attnbench's own build is: release when compiled with optimisation.
const char *attnbench_build_type()
{
#ifdef __OPTIMIZE__
	return "release";
#else
	return "debug";
#endif
}

// A text reporter (console, CSV) whose context is Google Benchmark's, less
// the library's build line, plus attnbench's lines.
template <class Base> class TextReporter : public Base
{
      public:
	using Base::Base;
	bool ReportContext(const benchmark::BenchmarkReporter::Context &c) override
	{
		std::ostream &err = this->GetErrorStream();
		std::ostringstream buf;
		this->SetErrorStream(&buf);
		const bool ok = Base::ReportContext(c);
		this->SetErrorStream(&err);
		err << drop_library_build_line(buf.str()) << g_context_text;
#ifndef __OPTIMIZE__
		err << "***WARNING*** attnbench was built without optimisation. Timings may be affected.\n";
#endif
		return ok;
	}
};

// The JSON reporter with attnbench's context as "attnbench" in "context",
// and library_build_type saying how attnbench was built.
class JsonReporter : public benchmark::JSONReporter
{
      public:
	bool ReportContext(const Context &c) override
	{
		std::ostream &out = GetOutputStream();
		std::ostringstream buf;
		SetOutputStream(&buf);
		const bool ok = benchmark::JSONReporter::ReportContext(c);
		SetOutputStream(&out);
		std::string s = buf.str();
		const std::string key = "\"library_build_type\": \"";
		const size_t at = s.find(key);
		if (at != std::string::npos) {
			const size_t end = s.find('"', at + key.size());
			if (end != std::string::npos)
				s.replace(at + key.size(), end - at - key.size(), attnbench_build_type());
		}
		// the context object ends at the first line that is "  },"
		const size_t close = s.find("\n  },");
		if (close != std::string::npos && !g_context_json.empty())
			s.insert(close, ",\n    \"attnbench\": " + g_context_json);
		out << s;
		return ok;
	}
};

std::unique_ptr<benchmark::BenchmarkReporter> make_reporter(int format, int console_options)
{
	switch (format) {
	case GB_FORMAT_JSON:
		return std::unique_ptr<benchmark::BenchmarkReporter>(new JsonReporter());
	case GB_FORMAT_CSV:
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
		return std::unique_ptr<benchmark::BenchmarkReporter>(new TextReporter<benchmark::CSVReporter>());
#pragma GCC diagnostic pop
	default:
		return std::unique_ptr<benchmark::BenchmarkReporter>(new TextReporter<benchmark::ConsoleReporter>(
		    static_cast<benchmark::ConsoleReporter::OutputOptions>(console_options)));
	}
}

} // namespace

extern "C" {

void gb_set_context(const char *json_object, const char *text)
{
	g_context_json = json_object ? json_object : "";
	g_context_text = text ? text : "";
}

size_t gb_run_reported(const gb_output *o)
{
	int opts = benchmark::ConsoleReporter::OO_None;
	if (o->color)
		opts |= benchmark::ConsoleReporter::OO_Color;
	if (o->tabular)
		opts |= benchmark::ConsoleReporter::OO_Tabular;
	auto display = make_reporter(o->format, opts);
	if (!o->to_file)
		return benchmark::RunSpecifiedBenchmarks(display.get());
	auto file = make_reporter(o->file_format, benchmark::ConsoleReporter::OO_None);
	return benchmark::RunSpecifiedBenchmarks(display.get(), file.get());
}

void gb_iterations(gb_bench *b, int64_t n)
{
	B(b)->Iterations(static_cast<benchmark::IterationCount>(n));
}

int gb_initialize(int *argc, char **argv)
{
	benchmark::Initialize(argc, argv);
	return *argc;
}

gb_bench *gb_register(const char *name, gb_func fn, void *arg)
{
	auto *b = benchmark::RegisterBenchmark(
	    name, [fn, arg](benchmark::State &st) { fn(reinterpret_cast<gb_state *>(&st), arg); });
	return reinterpret_cast<gb_bench *>(b);
}

void gb_arg(gb_bench *b, int64_t a)
{
	B(b)->Arg(a);
}

void gb_repetitions(gb_bench *b, int n)
{
	B(b)->Repetitions(n);
}

void gb_min_time(gb_bench *b, double seconds)
{
	B(b)->MinTime(seconds);
}

void gb_use_manual_time(gb_bench *b)
{
	B(b)->UseManualTime();
}

void gb_use_real_time(gb_bench *b)
{
	B(b)->UseRealTime();
}

void gb_complexity(gb_bench *b, enum gb_complexity c)
{
	switch (c) {
	case GB_O_N:
		B(b)->Complexity(benchmark::oN);
		break;
	case GB_O_NSQUARED:
		B(b)->Complexity(benchmark::oNSquared);
		break;
	case GB_O_AUTO:
		B(b)->Complexity(benchmark::oAuto);
		break;
	default:
		break;
	}
}

void gb_report_aggregates_only(gb_bench *b, int yes)
{
	B(b)->ReportAggregatesOnly(yes != 0);
}

void gb_unit_ms(gb_bench *b)
{
	B(b)->Unit(benchmark::kMillisecond);
}

int gb_keep_running(gb_state *st)
{
	return S(st)->KeepRunning() ? 1 : 0;
}

int64_t gb_max_iterations(gb_state *st)
{
	return static_cast<int64_t>(S(st)->max_iterations);
}

int gb_keep_running_batch(gb_state *st, int64_t n)
{
	return S(st)->KeepRunningBatch(static_cast<benchmark::IterationCount>(n)) ? 1 : 0;
}

int64_t gb_range(gb_state *st, int i)
{
	return S(st)->range(static_cast<std::size_t>(i));
}

void gb_set_iteration_time(gb_state *st, double seconds)
{
	S(st)->SetIterationTime(seconds);
}

void gb_set_counter(gb_state *st, const char *name, double value, int is_rate)
{
	S(st)->counters[name] = benchmark::Counter(value, is_rate ? benchmark::Counter::kIsIterationInvariantRate
	                                                          : benchmark::Counter::kDefaults);
}

void gb_set_complexity_n(gb_state *st, int64_t n)
{
	S(st)->SetComplexityN(n);
}

void gb_skip_with_error(gb_state *st, const char *msg)
{
	S(st)->SkipWithError(msg);
}

void gb_set_label(gb_state *st, const char *label)
{
	S(st)->SetLabel(label);
}

size_t gb_run_all(gb_report_fn fn, void *user)
{
	if (!fn)
		return benchmark::RunSpecifiedBenchmarks();
	CallbackReporter rep(fn, user);
	return benchmark::RunSpecifiedBenchmarks(&rep);
}

void gb_clear(void)
{
	benchmark::ClearRegisteredBenchmarks();
}

} // extern "C"
