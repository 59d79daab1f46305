// https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface VmConfig extends cdktf.TerraformMetaArguments {
  /**
  * "kvm", "tcg", or "auto" (default): what a test boot on the host found to work (the orbit_host probe, cached on the host). "auto" and the accelerator it found are the same; only a switch to another one is a change. Changing it restarts the VM on the same disks (a planned restart: the guest is asked to power off, up to stop_timeout_ms).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#accelerator Vm#accelerator}
  */
  readonly accelerator?: string;
  /**
  * QEMU CPU model. Default "qemu64", which runs under TCG and KVM and migrates between any x86 hosts. Changing it restarts the VM on the same disks (a planned restart: the guest is asked to power off, up to stop_timeout_ms).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#cpu_model Vm#cpu_model}
  */
  readonly cpuModel?: string;
  /**
  * The host the VM runs on (a name from the provider's hosts blocks). Changing it live-migrates the running VM (post-copy), disks included; it is never re-created for it.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#host Vm#host}
  */
  readonly host: string;
  /**
  * Direct kernel boot: the initramfs on the host. Needs kernel_path. Changing it restarts the VM on the same disks (a planned restart: the guest is asked to power off, up to stop_timeout_ms).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#initrd_path Vm#initrd_path}
  */
  readonly initrdPath?: string;
  /**
  * Leave the disk images on the host when the VM is destroyed (in /var/lib/orbit/<name>/); a VM created again with the same name and disks attaches them. Default false: destroy deletes them. No other change ever deletes a disk.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#keep_disks_on_destroy Vm#keep_disks_on_destroy}
  */
  readonly keepDisksOnDestroy?: boolean | cdktf.IResolvable;
  /**
  * Direct kernel boot: the kernel command line. Needs kernel_path. Changing it restarts the VM on the same disks (a planned restart: the guest is asked to power off, up to stop_timeout_ms).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#kernel_cmdline Vm#kernel_cmdline}
  */
  readonly kernelCmdline?: string;
  /**
  * Direct kernel boot: the kernel image on the host (every host the VM may run on). Without it the VM boots from its first disk. Changing it restarts the VM on the same disks (a planned restart: the guest is asked to power off, up to stop_timeout_ms).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#kernel_path Vm#kernel_path}
  */
  readonly kernelPath?: string;
  /**
  * QEMU machine type. Default "pc". Hosts the VM moves between need the same QEMU version, or a versioned type such as "pc-i440fx-7.2". Changing it restarts the VM on the same disks (a planned restart: the guest is asked to power off, up to stop_timeout_ms).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#machine Vm#machine}
  */
  readonly machine?: string;
  /**
  * Memory QEMU starts with, in MiB: the most memory_mib can grow to without a restart. Default: memory_mib (when memory_mib later grows beyond it unset, the VM restarts with the new size). Changing it restarts the VM on the same disks.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#max_memory_mib Vm#max_memory_mib}
  */
  readonly maxMemoryMib?: number;
  /**
  * Memory the guest has, in MiB. Default 512. Changes up to max_memory_mib apply to the running guest through its balloon (the guest needs its virtio balloon driver); beyond it, the VM is replaced.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#memory_mib Vm#memory_mib}
  */
  readonly memoryMib?: number;
  /**
  * Live migration: the longest pre-copy phase before switching to post-copy, in ms. Default 5000. It switches earlier when the first pass over memory leaves little to copy.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#migration_postcopy_after_ms Vm#migration_postcopy_after_ms}
  */
  readonly migrationPostcopyAfterMs?: number;
  /**
  * VM name: 1-40 of a-z, 0-9 and "-", starting with a letter. Unique among the hosts of the provider. A rename is refused: the name names the VM's processes and disks on its hosts.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#name Vm#name}
  */
  readonly name: string;
  /**
  * Whether the guest runs. Default true. false powers it off (ACPI power-off with stop_timeout_ms, then QEMU quits) and keeps it defined on its host: disks and settings stay, nothing is deleted. true starts it again on the same disks. A VM created with running = false gets its disks but never boots. Changes made while it is off (vCPUs, memory, disks, NICs) take effect when it starts; a host change needs it running.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#running Vm#running}
  */
  readonly running?: boolean | cdktf.IResolvable;
  /**
  * How long the guest gets to power off after the ACPI request when the VM is destroyed or restarted, before QEMU is told to quit. Default 30000; 0 skips the request.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#stop_timeout_ms Vm#stop_timeout_ms}
  */
  readonly stopTimeoutMs?: number;
  /**
  * Virtual CPUs. Default 1. Changing it restarts the VM on the same disks (a planned restart: the guest is asked to power off, up to stop_timeout_ms).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#vcpus Vm#vcpus}
  */
  readonly vcpus?: number;
  /**
  * cloud_init block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#cloud_init Vm#cloud_init}
  */
  readonly cloudInit?: VmCloudInit;
  /**
  * disk block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#disk Vm#disk}
  */
  readonly disk?: VmDisk[] | cdktf.IResolvable;
  /**
  * network block
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#network Vm#network}
  */
  readonly network?: VmNetwork[] | cdktf.IResolvable;
}
export interface VmCloudInit {
  /**
  * Extra meta-data (YAML), e.g. "local-hostname: web-1". Default: local-hostname set to the VM name. instance-id is Orbit's (derived from the content) and may not be set here.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#meta_data Vm#meta_data}
  */
  readonly metaData?: string;
  /**
  * Network configuration, version 1 or 2 YAML (e.g. a static address). Default: none, so the image's own default applies (usually DHCP on the first NIC).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#network_config Vm#network_config}
  */
  readonly networkConfig?: string;
  /**
  * user-data: a cloud-config document ("#cloud-config" first) or a script. Sensitive: hidden in plans and never logged; it is kept in the terraform state (encrypt your state backend) and on the host in a mode-0600 ISO that destroy removes. For secrets that must not be in the state, give user_data_wo instead. Exactly one of the two.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#user_data Vm#user_data}
  */
  readonly userData?: string;
  /**
  * user-data as a write-only value (terraform >= 1.11, e.g. from an ephemeral resource): never stored in the plan or the state, only on the host in the mode-0600 ISO. Terraform cannot see its edits: change user_data_wo_version to apply a new one. Exactly one of user_data and user_data_wo.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#user_data_wo Vm#user_data_wo}
  */
  readonly userDataWo?: string;
  /**
  * Required with user_data_wo: any whole number, changed whenever user_data_wo changes (the seed is rebuilt with a new instance id when it does).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#user_data_wo_version Vm#user_data_wo_version}
  */
  readonly userDataWoVersion?: number;
}

export function vmCloudInitToTerraform(struct?: VmCloudInitOutputReference | VmCloudInit): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    meta_data: cdktf.stringToTerraform(struct!.metaData),
    network_config: cdktf.stringToTerraform(struct!.networkConfig),
    user_data: cdktf.stringToTerraform(struct!.userData),
    user_data_wo: cdktf.stringToTerraform(struct!.userDataWo),
    user_data_wo_version: cdktf.numberToTerraform(struct!.userDataWoVersion),
  }
}


export function vmCloudInitToHclTerraform(struct?: VmCloudInitOutputReference | VmCloudInit): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    meta_data: {
      value: cdktf.stringToHclTerraform(struct!.metaData),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    network_config: {
      value: cdktf.stringToHclTerraform(struct!.networkConfig),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    user_data: {
      value: cdktf.stringToHclTerraform(struct!.userData),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    user_data_wo: {
      value: cdktf.stringToHclTerraform(struct!.userDataWo),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    user_data_wo_version: {
      value: cdktf.numberToHclTerraform(struct!.userDataWoVersion),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class VmCloudInitOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string) {
    super(terraformResource, terraformAttribute, false, 0);
  }

  public get internalValue(): VmCloudInit | undefined {
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._metaData !== undefined) {
      hasAnyValues = true;
      internalValueResult.metaData = this._metaData;
    }
    if (this._networkConfig !== undefined) {
      hasAnyValues = true;
      internalValueResult.networkConfig = this._networkConfig;
    }
    if (this._userData !== undefined) {
      hasAnyValues = true;
      internalValueResult.userData = this._userData;
    }
    if (this._userDataWo !== undefined) {
      hasAnyValues = true;
      internalValueResult.userDataWo = this._userDataWo;
    }
    if (this._userDataWoVersion !== undefined) {
      hasAnyValues = true;
      internalValueResult.userDataWoVersion = this._userDataWoVersion;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: VmCloudInit | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this._metaData = undefined;
      this._networkConfig = undefined;
      this._userData = undefined;
      this._userDataWo = undefined;
      this._userDataWoVersion = undefined;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this._metaData = value.metaData;
      this._networkConfig = value.networkConfig;
      this._userData = value.userData;
      this._userDataWo = value.userDataWo;
      this._userDataWoVersion = value.userDataWoVersion;
    }
  }

  // instance_id - computed: true, optional: false, required: false
  public get instanceId() {
    return this.getStringAttribute('instance_id');
  }

  // meta_data - computed: false, optional: true, required: false
  private _metaData?: string; 
  public get metaData() {
    return this.getStringAttribute('meta_data');
  }
  public set metaData(value: string) {
    this._metaData = value;
  }
  public resetMetaData() {
    this._metaData = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get metaDataInput() {
    return this._metaData;
  }

  // network_config - computed: false, optional: true, required: false
  private _networkConfig?: string; 
  public get networkConfig() {
    return this.getStringAttribute('network_config');
  }
  public set networkConfig(value: string) {
    this._networkConfig = value;
  }
  public resetNetworkConfig() {
    this._networkConfig = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get networkConfigInput() {
    return this._networkConfig;
  }

  // user_data - computed: false, optional: true, required: false
  private _userData?: string; 
  public get userData() {
    return this.getStringAttribute('user_data');
  }
  public set userData(value: string) {
    this._userData = value;
  }
  public resetUserData() {
    this._userData = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get userDataInput() {
    return this._userData;
  }

  // user_data_wo - computed: false, optional: true, required: false
  private _userDataWo?: string; 
  public get userDataWo() {
    return this.getStringAttribute('user_data_wo');
  }
  public set userDataWo(value: string) {
    this._userDataWo = value;
  }
  public resetUserDataWo() {
    this._userDataWo = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get userDataWoInput() {
    return this._userDataWo;
  }

  // user_data_wo_version - computed: false, optional: true, required: false
  private _userDataWoVersion?: number; 
  public get userDataWoVersion() {
    return this.getNumberAttribute('user_data_wo_version');
  }
  public set userDataWoVersion(value: number) {
    this._userDataWoVersion = value;
  }
  public resetUserDataWoVersion() {
    this._userDataWoVersion = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get userDataWoVersionInput() {
    return this._userDataWoVersion;
  }
}
export interface VmDisk {
  /**
  * Image format: "qcow2" (default, allocated as written) or "raw". Fixed once the disk exists (a change is refused at plan time: the image would have to be converted).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#format Vm#format}
  */
  readonly format?: string;
  /**
  * Start the disk from this image: `orbit_image.NAME.path` (the image must be placed on the VM's host; checked at plan time once the image exists, else before anything starts). The disk is a qcow2 overlay on the read-only image, grown to size_mib (at least the image's virtual size; the guest grows its filesystem, as cloud images do on first boot). Fixed once the disk exists: a change is refused at plan time.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#image Vm#image}
  */
  readonly image?: string;
  /**
  * Virtual size in MiB. Growing it resizes the disk under the running guest; shrinking is refused at plan time.
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#size_mib Vm#size_mib}
  */
  readonly sizeMib: number;
}

export function vmDiskToTerraform(struct?: VmDisk | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    format: cdktf.stringToTerraform(struct!.format),
    image: cdktf.stringToTerraform(struct!.image),
    size_mib: cdktf.numberToTerraform(struct!.sizeMib),
  }
}


export function vmDiskToHclTerraform(struct?: VmDisk | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    format: {
      value: cdktf.stringToHclTerraform(struct!.format),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    image: {
      value: cdktf.stringToHclTerraform(struct!.image),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    size_mib: {
      value: cdktf.numberToHclTerraform(struct!.sizeMib),
      isBlock: false,
      type: "simple",
      storageClassType: "number",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class VmDiskOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;
  private resolvableValue?: cdktf.IResolvable;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param complexObjectIndex the index of this item in the list
  * @param complexObjectIsFromSet whether the list is wrapping a set (will add tolist() to be able to access an item via an index)
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string, complexObjectIndex: number, complexObjectIsFromSet: boolean) {
    super(terraformResource, terraformAttribute, complexObjectIsFromSet, complexObjectIndex);
  }

  public get internalValue(): VmDisk | cdktf.IResolvable | undefined {
    if (this.resolvableValue) {
      return this.resolvableValue;
    }
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._format !== undefined) {
      hasAnyValues = true;
      internalValueResult.format = this._format;
    }
    if (this._image !== undefined) {
      hasAnyValues = true;
      internalValueResult.image = this._image;
    }
    if (this._sizeMib !== undefined) {
      hasAnyValues = true;
      internalValueResult.sizeMib = this._sizeMib;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: VmDisk | cdktf.IResolvable | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this.resolvableValue = undefined;
      this._format = undefined;
      this._image = undefined;
      this._sizeMib = undefined;
    }
    else if (cdktf.Tokenization.isResolvable(value)) {
      this.isEmptyObject = false;
      this.resolvableValue = value;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this.resolvableValue = undefined;
      this._format = value.format;
      this._image = value.image;
      this._sizeMib = value.sizeMib;
    }
  }

  // format - computed: true, optional: true, required: false
  private _format?: string; 
  public get format() {
    return this.getStringAttribute('format');
  }
  public set format(value: string) {
    this._format = value;
  }
  public resetFormat() {
    this._format = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get formatInput() {
    return this._format;
  }

  // image - computed: false, optional: true, required: false
  private _image?: string; 
  public get image() {
    return this.getStringAttribute('image');
  }
  public set image(value: string) {
    this._image = value;
  }
  public resetImage() {
    this._image = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get imageInput() {
    return this._image;
  }

  // path - computed: true, optional: false, required: false
  public get path() {
    return this.getStringAttribute('path');
  }

  // size_mib - computed: false, optional: false, required: true
  private _sizeMib?: number; 
  public get sizeMib() {
    return this.getNumberAttribute('size_mib');
  }
  public set sizeMib(value: number) {
    this._sizeMib = value;
  }
  // Temporarily expose input value. Use with caution.
  public get sizeMibInput() {
    return this._sizeMib;
  }
}

export class VmDiskList extends cdktf.ComplexList {
  public internalValue? : VmDisk[] | cdktf.IResolvable

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param wrapsSet whether the list is wrapping a set (will add tolist() to be able to access an item via an index)
  */
  constructor(protected terraformResource: cdktf.IInterpolatingParent, protected terraformAttribute: string, protected wrapsSet: boolean) {
    super(terraformResource, terraformAttribute, wrapsSet)
  }

  /**
  * @param index the index of the item to return
  */
  public get(index: number): VmDiskOutputReference {
    return new VmDiskOutputReference(this.terraformResource, this.terraformAttribute, index, this.wrapsSet);
  }
}
export interface VmNetwork {
  /**
  * The host bridge the NIC's tap joins, e.g. "vmbr0".
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#bridge Vm#bridge}
  */
  readonly bridge: string;
  /**
  * MAC address. Default: 52:54:00 followed by three bytes derived from the VM name and the NIC index (stable across plans).
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#mac Vm#mac}
  */
  readonly mac?: string;
  /**
  * NIC model: "virtio-net-pci" (default), "e1000" or "rtl8139".
  *
  * Docs at Terraform Registry: {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#model Vm#model}
  */
  readonly model?: string;
}

export function vmNetworkToTerraform(struct?: VmNetwork | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
    bridge: cdktf.stringToTerraform(struct!.bridge),
    mac: cdktf.stringToTerraform(struct!.mac),
    model: cdktf.stringToTerraform(struct!.model),
  }
}


export function vmNetworkToHclTerraform(struct?: VmNetwork | cdktf.IResolvable): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
    bridge: {
      value: cdktf.stringToHclTerraform(struct!.bridge),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    mac: {
      value: cdktf.stringToHclTerraform(struct!.mac),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
    model: {
      value: cdktf.stringToHclTerraform(struct!.model),
      isBlock: false,
      type: "simple",
      storageClassType: "string",
    },
  };

  // remove undefined attributes
  return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined));
}

export class VmNetworkOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;
  private resolvableValue?: cdktf.IResolvable;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param complexObjectIndex the index of this item in the list
  * @param complexObjectIsFromSet whether the list is wrapping a set (will add tolist() to be able to access an item via an index)
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string, complexObjectIndex: number, complexObjectIsFromSet: boolean) {
    super(terraformResource, terraformAttribute, complexObjectIsFromSet, complexObjectIndex);
  }

  public get internalValue(): VmNetwork | cdktf.IResolvable | undefined {
    if (this.resolvableValue) {
      return this.resolvableValue;
    }
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    if (this._bridge !== undefined) {
      hasAnyValues = true;
      internalValueResult.bridge = this._bridge;
    }
    if (this._mac !== undefined) {
      hasAnyValues = true;
      internalValueResult.mac = this._mac;
    }
    if (this._model !== undefined) {
      hasAnyValues = true;
      internalValueResult.model = this._model;
    }
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: VmNetwork | cdktf.IResolvable | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
      this.resolvableValue = undefined;
      this._bridge = undefined;
      this._mac = undefined;
      this._model = undefined;
    }
    else if (cdktf.Tokenization.isResolvable(value)) {
      this.isEmptyObject = false;
      this.resolvableValue = value;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
      this.resolvableValue = undefined;
      this._bridge = value.bridge;
      this._mac = value.mac;
      this._model = value.model;
    }
  }

  // bridge - computed: false, optional: false, required: true
  private _bridge?: string; 
  public get bridge() {
    return this.getStringAttribute('bridge');
  }
  public set bridge(value: string) {
    this._bridge = value;
  }
  // Temporarily expose input value. Use with caution.
  public get bridgeInput() {
    return this._bridge;
  }

  // mac - computed: true, optional: true, required: false
  private _mac?: string; 
  public get mac() {
    return this.getStringAttribute('mac');
  }
  public set mac(value: string) {
    this._mac = value;
  }
  public resetMac() {
    this._mac = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get macInput() {
    return this._mac;
  }

  // model - computed: true, optional: true, required: false
  private _model?: string; 
  public get model() {
    return this.getStringAttribute('model');
  }
  public set model(value: string) {
    this._model = value;
  }
  public resetModel() {
    this._model = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get modelInput() {
    return this._model;
  }
}

export class VmNetworkList extends cdktf.ComplexList {
  public internalValue? : VmNetwork[] | cdktf.IResolvable

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param wrapsSet whether the list is wrapping a set (will add tolist() to be able to access an item via an index)
  */
  constructor(protected terraformResource: cdktf.IInterpolatingParent, protected terraformAttribute: string, protected wrapsSet: boolean) {
    super(terraformResource, terraformAttribute, wrapsSet)
  }

  /**
  * @param index the index of the item to return
  */
  public get(index: number): VmNetworkOutputReference {
    return new VmNetworkOutputReference(this.terraformResource, this.terraformAttribute, index, this.wrapsSet);
  }
}

/**
* Represents a {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm orbit_vm}
*/
export class Vm extends cdktf.TerraformResource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "orbit_vm";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a Vm resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the Vm to import
  * @param importFromId The id of the existing Vm that should be imported. Refer to the {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the Vm to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "orbit_vm", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://registry.terraform.io/providers/orbit/orbit/0.1.0/docs/resources/vm orbit_vm} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options VmConfig
  */
  public constructor(scope: Construct, id: string, config: VmConfig) {
    super(scope, id, {
      terraformResourceType: 'orbit_vm',
      terraformGeneratorMetadata: {
        providerName: 'orbit',
        providerVersion: '0.1.0'
      },
      provider: config.provider,
      dependsOn: config.dependsOn,
      count: config.count,
      lifecycle: config.lifecycle,
      provisioners: config.provisioners,
      connection: config.connection,
      forEach: config.forEach
    });
    this._accelerator = config.accelerator;
    this._cpuModel = config.cpuModel;
    this._host = config.host;
    this._initrdPath = config.initrdPath;
    this._keepDisksOnDestroy = config.keepDisksOnDestroy;
    this._kernelCmdline = config.kernelCmdline;
    this._kernelPath = config.kernelPath;
    this._machine = config.machine;
    this._maxMemoryMib = config.maxMemoryMib;
    this._memoryMib = config.memoryMib;
    this._migrationPostcopyAfterMs = config.migrationPostcopyAfterMs;
    this._name = config.name;
    this._running = config.running;
    this._stopTimeoutMs = config.stopTimeoutMs;
    this._vcpus = config.vcpus;
    this._cloudInit.internalValue = config.cloudInit;
    this._disk.internalValue = config.disk;
    this._network.internalValue = config.network;
  }

  // ==========
  // ATTRIBUTES
  // ==========

  // accelerator - computed: true, optional: true, required: false
  private _accelerator?: string; 
  public get accelerator() {
    return this.getStringAttribute('accelerator');
  }
  public set accelerator(value: string) {
    this._accelerator = value;
  }
  public resetAccelerator() {
    this._accelerator = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get acceleratorInput() {
    return this._accelerator;
  }

  // accelerator_in_use - computed: true, optional: false, required: false
  public get acceleratorInUse() {
    return this.getStringAttribute('accelerator_in_use');
  }

  // cpu_model - computed: true, optional: true, required: false
  private _cpuModel?: string; 
  public get cpuModel() {
    return this.getStringAttribute('cpu_model');
  }
  public set cpuModel(value: string) {
    this._cpuModel = value;
  }
  public resetCpuModel() {
    this._cpuModel = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get cpuModelInput() {
    return this._cpuModel;
  }

  // host - computed: false, optional: false, required: true
  private _host?: string; 
  public get host() {
    return this.getStringAttribute('host');
  }
  public set host(value: string) {
    this._host = value;
  }
  // Temporarily expose input value. Use with caution.
  public get hostInput() {
    return this._host;
  }

  // id - computed: true, optional: false, required: false
  public get id() {
    return this.getStringAttribute('id');
  }

  // initrd_path - computed: false, optional: true, required: false
  private _initrdPath?: string; 
  public get initrdPath() {
    return this.getStringAttribute('initrd_path');
  }
  public set initrdPath(value: string) {
    this._initrdPath = value;
  }
  public resetInitrdPath() {
    this._initrdPath = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get initrdPathInput() {
    return this._initrdPath;
  }

  // keep_disks_on_destroy - computed: true, optional: true, required: false
  private _keepDisksOnDestroy?: boolean | cdktf.IResolvable; 
  public get keepDisksOnDestroy() {
    return this.getBooleanAttribute('keep_disks_on_destroy');
  }
  public set keepDisksOnDestroy(value: boolean | cdktf.IResolvable) {
    this._keepDisksOnDestroy = value;
  }
  public resetKeepDisksOnDestroy() {
    this._keepDisksOnDestroy = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get keepDisksOnDestroyInput() {
    return this._keepDisksOnDestroy;
  }

  // kernel_cmdline - computed: false, optional: true, required: false
  private _kernelCmdline?: string; 
  public get kernelCmdline() {
    return this.getStringAttribute('kernel_cmdline');
  }
  public set kernelCmdline(value: string) {
    this._kernelCmdline = value;
  }
  public resetKernelCmdline() {
    this._kernelCmdline = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get kernelCmdlineInput() {
    return this._kernelCmdline;
  }

  // kernel_path - computed: false, optional: true, required: false
  private _kernelPath?: string; 
  public get kernelPath() {
    return this.getStringAttribute('kernel_path');
  }
  public set kernelPath(value: string) {
    this._kernelPath = value;
  }
  public resetKernelPath() {
    this._kernelPath = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get kernelPathInput() {
    return this._kernelPath;
  }

  // last_migration_downtime_ms - computed: true, optional: false, required: false
  public get lastMigrationDowntimeMs() {
    return this.getNumberAttribute('last_migration_downtime_ms');
  }

  // last_migration_total_ms - computed: true, optional: false, required: false
  public get lastMigrationTotalMs() {
    return this.getNumberAttribute('last_migration_total_ms');
  }

  // machine - computed: true, optional: true, required: false
  private _machine?: string; 
  public get machine() {
    return this.getStringAttribute('machine');
  }
  public set machine(value: string) {
    this._machine = value;
  }
  public resetMachine() {
    this._machine = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get machineInput() {
    return this._machine;
  }

  // max_memory_mib - computed: true, optional: true, required: false
  private _maxMemoryMib?: number; 
  public get maxMemoryMib() {
    return this.getNumberAttribute('max_memory_mib');
  }
  public set maxMemoryMib(value: number) {
    this._maxMemoryMib = value;
  }
  public resetMaxMemoryMib() {
    this._maxMemoryMib = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get maxMemoryMibInput() {
    return this._maxMemoryMib;
  }

  // memory_mib - computed: true, optional: true, required: false
  private _memoryMib?: number; 
  public get memoryMib() {
    return this.getNumberAttribute('memory_mib');
  }
  public set memoryMib(value: number) {
    this._memoryMib = value;
  }
  public resetMemoryMib() {
    this._memoryMib = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get memoryMibInput() {
    return this._memoryMib;
  }

  // migration_postcopy_after_ms - computed: true, optional: true, required: false
  private _migrationPostcopyAfterMs?: number; 
  public get migrationPostcopyAfterMs() {
    return this.getNumberAttribute('migration_postcopy_after_ms');
  }
  public set migrationPostcopyAfterMs(value: number) {
    this._migrationPostcopyAfterMs = value;
  }
  public resetMigrationPostcopyAfterMs() {
    this._migrationPostcopyAfterMs = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get migrationPostcopyAfterMsInput() {
    return this._migrationPostcopyAfterMs;
  }

  // name - computed: false, optional: false, required: true
  private _name?: string; 
  public get name() {
    return this.getStringAttribute('name');
  }
  public set name(value: string) {
    this._name = value;
  }
  // Temporarily expose input value. Use with caution.
  public get nameInput() {
    return this._name;
  }

  // running - computed: true, optional: true, required: false
  private _running?: boolean | cdktf.IResolvable; 
  public get running() {
    return this.getBooleanAttribute('running');
  }
  public set running(value: boolean | cdktf.IResolvable) {
    this._running = value;
  }
  public resetRunning() {
    this._running = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get runningInput() {
    return this._running;
  }

  // status - computed: true, optional: false, required: false
  public get status() {
    return this.getStringAttribute('status');
  }

  // stop_timeout_ms - computed: true, optional: true, required: false
  private _stopTimeoutMs?: number; 
  public get stopTimeoutMs() {
    return this.getNumberAttribute('stop_timeout_ms');
  }
  public set stopTimeoutMs(value: number) {
    this._stopTimeoutMs = value;
  }
  public resetStopTimeoutMs() {
    this._stopTimeoutMs = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get stopTimeoutMsInput() {
    return this._stopTimeoutMs;
  }

  // vcpus - computed: true, optional: true, required: false
  private _vcpus?: number; 
  public get vcpus() {
    return this.getNumberAttribute('vcpus');
  }
  public set vcpus(value: number) {
    this._vcpus = value;
  }
  public resetVcpus() {
    this._vcpus = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get vcpusInput() {
    return this._vcpus;
  }

  // cloud_init - computed: false, optional: true, required: false
  private _cloudInit = new VmCloudInitOutputReference(this, "cloud_init");
  public get cloudInit() {
    return this._cloudInit;
  }
  public putCloudInit(value: VmCloudInit) {
    this._cloudInit.internalValue = value;
  }
  public resetCloudInit() {
    this._cloudInit.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get cloudInitInput() {
    return this._cloudInit.internalValue;
  }

  // disk - computed: false, optional: true, required: false
  private _disk = new VmDiskList(this, "disk", false);
  public get disk() {
    return this._disk;
  }
  public putDisk(value: VmDisk[] | cdktf.IResolvable) {
    this._disk.internalValue = value;
  }
  public resetDisk() {
    this._disk.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get diskInput() {
    return this._disk.internalValue;
  }

  // network - computed: false, optional: true, required: false
  private _network = new VmNetworkList(this, "network", false);
  public get network() {
    return this._network;
  }
  public putNetwork(value: VmNetwork[] | cdktf.IResolvable) {
    this._network.internalValue = value;
  }
  public resetNetwork() {
    this._network.internalValue = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get networkInput() {
    return this._network.internalValue;
  }

  // =========
  // SYNTHESIS
  // =========

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      accelerator: cdktf.stringToTerraform(this._accelerator),
      cpu_model: cdktf.stringToTerraform(this._cpuModel),
      host: cdktf.stringToTerraform(this._host),
      initrd_path: cdktf.stringToTerraform(this._initrdPath),
      keep_disks_on_destroy: cdktf.booleanToTerraform(this._keepDisksOnDestroy),
      kernel_cmdline: cdktf.stringToTerraform(this._kernelCmdline),
      kernel_path: cdktf.stringToTerraform(this._kernelPath),
      machine: cdktf.stringToTerraform(this._machine),
      max_memory_mib: cdktf.numberToTerraform(this._maxMemoryMib),
      memory_mib: cdktf.numberToTerraform(this._memoryMib),
      migration_postcopy_after_ms: cdktf.numberToTerraform(this._migrationPostcopyAfterMs),
      name: cdktf.stringToTerraform(this._name),
      running: cdktf.booleanToTerraform(this._running),
      stop_timeout_ms: cdktf.numberToTerraform(this._stopTimeoutMs),
      vcpus: cdktf.numberToTerraform(this._vcpus),
      cloud_init: vmCloudInitToTerraform(this._cloudInit.internalValue),
      disk: cdktf.listMapper(vmDiskToTerraform, true)(this._disk.internalValue),
      network: cdktf.listMapper(vmNetworkToTerraform, true)(this._network.internalValue),
    };
  }

  protected synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      accelerator: {
        value: cdktf.stringToHclTerraform(this._accelerator),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      cpu_model: {
        value: cdktf.stringToHclTerraform(this._cpuModel),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      host: {
        value: cdktf.stringToHclTerraform(this._host),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      initrd_path: {
        value: cdktf.stringToHclTerraform(this._initrdPath),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      keep_disks_on_destroy: {
        value: cdktf.booleanToHclTerraform(this._keepDisksOnDestroy),
        isBlock: false,
        type: "simple",
        storageClassType: "boolean",
      },
      kernel_cmdline: {
        value: cdktf.stringToHclTerraform(this._kernelCmdline),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      kernel_path: {
        value: cdktf.stringToHclTerraform(this._kernelPath),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      machine: {
        value: cdktf.stringToHclTerraform(this._machine),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      max_memory_mib: {
        value: cdktf.numberToHclTerraform(this._maxMemoryMib),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      memory_mib: {
        value: cdktf.numberToHclTerraform(this._memoryMib),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      migration_postcopy_after_ms: {
        value: cdktf.numberToHclTerraform(this._migrationPostcopyAfterMs),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      name: {
        value: cdktf.stringToHclTerraform(this._name),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      running: {
        value: cdktf.booleanToHclTerraform(this._running),
        isBlock: false,
        type: "simple",
        storageClassType: "boolean",
      },
      stop_timeout_ms: {
        value: cdktf.numberToHclTerraform(this._stopTimeoutMs),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      vcpus: {
        value: cdktf.numberToHclTerraform(this._vcpus),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      cloud_init: {
        value: vmCloudInitToHclTerraform(this._cloudInit.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "VmCloudInitList",
      },
      disk: {
        value: cdktf.listMapperHcl(vmDiskToHclTerraform, true)(this._disk.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "VmDiskList",
      },
      network: {
        value: cdktf.listMapperHcl(vmNetworkToHclTerraform, true)(this._network.internalValue),
        isBlock: true,
        type: "list",
        storageClassType: "VmNetworkList",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
