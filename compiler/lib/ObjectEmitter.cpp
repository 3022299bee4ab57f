//===- ObjectEmitter.cpp - LLVM dialect -> host object file -----*- C++ -*-===//
//
// The generated kernels carry fast-math reassoc/contract on their reductions
// (set by llama-to-linalg); here LLVM's -O3 pipeline vectorizes them for the
// host CPU and the code generator emits PIC, since Debian links PIE.
//
//===----------------------------------------------------------------------===//
#include "llamac/compiler/ObjectEmitter.h"

#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "llvm/TargetParser/Triple.h"

using namespace llamac;
using llvm::Error;

namespace {
Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
createHostMachine(const ObjectOptions &options) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return fail("no LLVM target for " + triple.str() + ": " + error);
  std::string cpu = options.cpu;
  llvm::SubtargetFeatures features;
  if (cpu == "native") {
    cpu = llvm::sys::getHostCPUName().str();
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      features.AddFeature(feature.getKey(), feature.getValue());
  }
  llvm::TargetOptions targetOptions;
  targetOptions.AllowFPOpFusion = llvm::FPOpFusion::Fast;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpu, features.getString(), targetOptions, llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return fail("cannot create an LLVM target machine for cpu '" + cpu + "'");
  return machine;
}

void addModelInfo(llvm::Module &module, const llamac_model_info &info) {
  llvm::LLVMContext &context = module.getContext();
  const auto *fields = reinterpret_cast<const uint64_t *>(&info);
  llvm::ArrayRef<uint64_t> values(fields, LLAMAC_MODEL_INFO_FIELDS);
  llvm::Constant *init = llvm::ConstantDataArray::get(context, values);
  new llvm::GlobalVariable(module, init->getType(), /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage, init,
                           "llamac_model");
}

void optimize(llvm::Module &module, llvm::TargetMachine &machine) {
  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager cgscc;
  llvm::ModuleAnalysisManager modules;
  llvm::PassBuilder builder(&machine);
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(cgscc);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, cgscc, modules);
  builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3)
      .run(module, modules);
}
} // namespace

Error llamac::emitHostObject(mlir::ModuleOp module,
                             const llamac_model_info &info,
                             llvm::StringRef path,
                             const ObjectOptions &options) {
  auto machine = createHostMachine(options);
  if (!machine)
    return machine.takeError();
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, context, "llamac_model");
  if (!llvmModule)
    return fail("translation of the lowered module to LLVM IR failed");
  llvmModule->setTargetTriple((*machine)->getTargetTriple());
  llvmModule->setDataLayout((*machine)->createDataLayout());
  addModelInfo(*llvmModule, info);
  if (llvm::verifyModule(*llvmModule, &llvm::errs()))
    return fail("internal error: the generated LLVM IR does not verify");
  optimize(*llvmModule, **machine);

  if (!options.llvmIRPath.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream ir(options.llvmIRPath, ec, llvm::sys::fs::OF_Text);
    if (ec)
      return fail(options.llvmIRPath + ": " + ec.message());
    llvmModule->print(ir, nullptr);
  }

  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return fail(path + ": " + ec.message());
  llvm::legacy::PassManager codegen;
  if ((*machine)->addPassesToEmitFile(codegen, out, nullptr,
                                      llvm::CodeGenFileType::ObjectFile))
    return fail("the LLVM target cannot emit object files");
  codegen.run(*llvmModule);
  out.flush();
  if (out.has_error())
    return fail(path + ": write error");
  return Error::success();
}
