console.log("webui asset");
